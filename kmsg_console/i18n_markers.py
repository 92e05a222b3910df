"""Marker for strings that are translated later, where they are shown.

Code outside a request (adapters, the messaging core, CLI help) cannot call gettext
at import time. It wraps its words in ``N_`` so the catalogue extractor finds them;
templates and views translate them with ``_()`` when they render them.
"""


def N_(text: str) -> str:
    """Mark ``text`` for extraction without translating it now."""
    return text
