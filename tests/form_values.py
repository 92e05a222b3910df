"""What a browser would submit from a rendered form, unchanged (for tests of edit pages)."""

from __future__ import annotations

import re


def form_values(html: str) -> dict[str, str | list[str]]:
    """Inputs, checked boxes, textareas and selected options of the page's forms, by name."""
    form: dict[str, str | list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                form.setdefault(name.group(1), []).append(value.group(1) if value else "y")
            continue
        form[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        form[name] = body.strip()
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = [o for o in re.findall(r"<option[^>]*>", body) if " selected" in o]
        form[name] = re.search(r'value="([^"]*)"', chosen[0]).group(1) if chosen else ""
    return form
