"""``#{var}`` placeholders: finding, ordering and filling them.

The syntax is K-Message's: ``#{`` then any characters except ``}`` then ``}``;
the name is trimmed, so ``#{ code }`` and ``#{code}`` are the same variable,
and Korean names (``#{고객명}``) are fine. Unlike K-Message, a placeholder
without a value is an error: a console must never send ``#{code}`` literally.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache

from kmsg_console.i18n_markers import N_

from .types import VariableValue

PLACEHOLDER_RE = re.compile(r"#\{([^}]*)\}")


class MissingVariablesError(KeyError):
    """A template uses variables that were not supplied."""

    def __init__(self, names: list[str]) -> None:
        self.names = tuple(dict.fromkeys(names))  # unique, first-seen order
        self.reason = N_("No value for template variable(s): %(names)s.")
        super().__init__(", ".join(self.names))

    def __str__(self) -> str:
        return self.reason % {"names": ", ".join(self.names)}


def placeholder_names(template: str) -> list[str]:
    """Return the placeholder names in order of occurrence, repeats included."""
    return [match.group(1).strip() for match in PLACEHOLDER_RE.finditer(template)]


def stringify_variable(value: VariableValue) -> str:
    """Render one variable value the way K-Message does.

    ``None`` becomes an empty string, booleans ``true``/``false``, dates ISO-8601.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def render_template(template: str, variables: Mapping[str, VariableValue]) -> str:
    """Fill every ``#{name}`` in ``template`` from ``variables``.

    Substitution is a single left-to-right pass, so a value that itself
    contains ``#{…}`` is inserted literally and never expanded again.

    :raises MissingVariablesError: when a placeholder has no value.
    """
    literals, names = _parts(template)
    missing = [name for name in names if name not in variables]
    if missing:
        raise MissingVariablesError(missing)
    out = [literals[0]]
    for name, literal in zip(names, literals[1:], strict=True):
        out += (stringify_variable(variables[name]), literal)
    return "".join(out)


#: A campaign renders one text for each of up to a million recipients: the text is split
#: into its literals and placeholder names once, not scanned again for every row.
@lru_cache(maxsize=256)
def _parts(template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``template``'s literal pieces and, between them, its placeholder names (trimmed)."""
    pieces = PLACEHOLDER_RE.split(template)  # literal, name, literal, ..., name, literal
    return tuple(pieces[0::2]), tuple(name.strip() for name in pieces[1::2])


def ordered_values(template: str, variables: Mapping[str, VariableValue]) -> list[str]:
    """One value per distinct placeholder of ``template``, in order of first appearance.

    This is IWINV's positional ``templateParam``: the vendor fills the
    template's variables from the array by position, and a variable that
    appears twice takes its single value in both places.

    :raises MissingVariablesError: when a placeholder has no value.
    """
    names = list(dict.fromkeys(placeholder_names(template)))
    missing = [name for name in names if name not in variables]
    if missing:
        raise MissingVariablesError(missing)
    return [stringify_variable(variables[name]) for name in names]
