"""Small helpers for pages that answer htmx requests with a fragment."""

from __future__ import annotations

from typing import Any

from flask import render_template, request


def is_partial() -> bool:
    """True for an htmx request that wants a fragment (not a boosted page load)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page_or_fragment(page_template: str, fragment_template: str, **context: Any) -> str:
    """Render the whole page template, or only the fragment template for htmx requests.

    The page template includes the fragment, so both paths share one source.
    """
    return render_template(fragment_template if is_partial() else page_template, **context)
