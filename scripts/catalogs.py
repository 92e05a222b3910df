"""Keep the Korean and English message catalogues in step with the code.

    python scripts/catalogs.py          # extract, merge into ko/en .po, compile .mo
    python scripts/catalogs.py --check  # exit 1 if a string is missing or untranslated

English is the source language: empty English entries are filled with their msgid. Korean
entries must be translated by a person; ``--check`` lists the ones that are not.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "kmsg_console" / "translations"
LOCALES = ("ko", "en")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
}


def extract() -> Catalog:
    """Every translatable string in the package and the templates."""
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    catalog = Catalog(project="kmsg-console")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="kmsg-console")
    with open(path, "rb") as handle:
        return read_po(handle, locale=locale)


def untranslated(template: Catalog, catalog: Catalog) -> list[str]:
    """msgids of ``template`` that ``catalog`` lacks or leaves empty (or marks fuzzy)."""
    problems = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        strings = entry.string if entry is not None else None
        if isinstance(strings, tuple):
            empty = not all(strings)
        else:
            empty = not strings
        if entry is None or empty or entry.fuzzy:
            problems.append(message.id if isinstance(message.id, str) else message.id[0])
    return problems


def update() -> None:
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if locale == "en":
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            write_po(
                handle, catalog, omit_header=False, no_location=True, sort_output=True, width=100
            )
        with open(path.with_suffix(".mo"), "wb") as handle:
            write_mo(handle, catalog)


def compiled(locale: str) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, load(locale))
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if not args.check:
        update()
    template = extract()
    failed = False
    for locale in LOCALES:
        missing = untranslated(template, load(locale))
        for msgid in missing:
            print(f"{locale}: untranslated: {msgid!r}")
        failed = failed or bool(missing)
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
