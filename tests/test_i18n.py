"""Every piece of UI text is translatable, and both catalogues are complete and compiled."""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kmsg_console.paths import resource_dir

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("catalogs", ROOT / "scripts" / "catalogs.py")
catalogs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogs)

#: Words that are names, not prose, and need no translation.
ALLOWED_LITERALS = {
    "kmsg-console",
    "한국어",
    "English",
    "SMS",
    "LMS",
    "MMS",
    "OTP",
    "API",
    "IP",
    "ID",
    "CSV",
    "ms",
}
TEXT_ATTRIBUTES = {
    "title",
    "placeholder",
    "aria-label",
    "alt",
    "data-confirm",
    "hx-confirm",
    "value",
}
JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)


class _LiteralFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "code"}:
            self._skip += 1
        for name, value in attrs:
            if (
                name in TEXT_ATTRIBUTES
                and value
                and tag != "option"
                and not (tag == "input" and name == "value")
            ):
                self._check(value)

    def handle_endtag(self, tag):
        if tag in {"script", "style", "code"} and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._check(data)

    def _check(self, text: str) -> None:
        for word in re.findall(r"[A-Za-z가-힣][A-Za-z가-힣'-]*", text):
            if word not in ALLOWED_LITERALS:
                self.found.append(text.strip())
                return


def _literal_text(source: str) -> list[str]:
    finder = _LiteralFinder()
    finder.feed(JINJA.sub(" ", source))
    return finder.found


@pytest.mark.parametrize(
    "template",
    sorted(
        p.relative_to(resource_dir("templates")).as_posix()
        for p in resource_dir("templates").rglob("*.html")
    ),
)
def test_template_has_no_untranslated_literal_text(template):
    source = (resource_dir("templates") / template).read_text()
    assert _literal_text(source) == []


def test_the_literal_text_checker_catches_plain_text():
    assert _literal_text("<p>Hello operator</p>") == ["Hello operator"]
    assert _literal_text('<input placeholder="Phone">') == ["Phone"]
    assert _literal_text("<p>{{ _('Hello') }}</p>") == []


@pytest.mark.parametrize("locale", catalogs.LOCALES)
def test_catalogue_has_every_string_translated(locale):
    template = catalogs.extract()
    assert len(list(template)) > 50
    assert catalogs.untranslated(template, catalogs.load(locale)) == []


@pytest.mark.parametrize("locale", catalogs.LOCALES)
def test_compiled_catalogue_is_up_to_date(locale):
    mo = catalogs.po_path(locale).with_suffix(".mo")
    assert mo.read_bytes() == catalogs.compiled(locale), "run: python scripts/catalogs.py"


def test_korean_placeholders_match_the_english_ones():
    catalog = catalogs.load("ko")
    mismatched = []
    for message in catalog:
        if message.id and isinstance(message.id, str) and message.string:
            wanted = sorted(re.findall(r"%\(\w+\)[sd]|%[sd]", message.id))
            got = sorted(re.findall(r"%\(\w+\)[sd]|%[sd]", message.string))
            if wanted != got:
                mismatched.append(message.id)
    assert mismatched == []
