"""Every table of the console sits in its own horizontal scroll container.

A table wider than the screen then scrolls inside the page instead of widening it (a phone,
or many columns on a laptop); the browser test measures the pages, this one keeps a new
template from leaving a table out.
"""

from __future__ import annotations

import re

import pytest

from kmsg_console.paths import resource_dir

TEMPLATES = resource_dir("templates")
CONTAINER = '<div class="scroll-x">'


def _tables(source: str) -> list[tuple[int, str]]:
    """(line number, text just before) of each ``<table``."""
    return [
        (source.count("\n", 0, m.start()) + 1, source[: m.start()].rstrip())
        for m in re.finditer(r"<table\b", source)
    ]


@pytest.mark.parametrize(
    "template",
    sorted(
        p.relative_to(TEMPLATES).as_posix()
        for p in TEMPLATES.rglob("*.html")
        if "<table" in p.read_text()
    ),
)
def test_each_table_is_inside_a_scroll_container(template):
    source = (TEMPLATES / template).read_text()
    bare = [line for line, before in _tables(source) if not before.endswith(CONTAINER)]
    assert bare == [], f"{template}: tables on lines {bare} need {CONTAINER} around them"


def test_the_check_finds_a_bare_table():
    assert _tables('<p>x</p>\n<table class="table">') == [(2, "<p>x</p>")]
    assert _tables(f'{CONTAINER}\n  <table class="table">')[0][1].endswith(CONTAINER)
