"""Names an install seeds (the default throttle policies, OTP purposes...) in the operator's
language.

They are stored in English, the source language of every message id, so existing installs
need no data change. A stored text that is still one of them was never changed by an
operator and is shown translated; once an operator changes it, it is theirs and is shown as
typed. Edit forms show the translation; submitted back unchanged, the stored original is
kept, so the row stays translated for operators of every language.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext


class SeededTexts:
    """The texts one feature seeds (each also marked with ``N_`` where it is defined)."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = frozenset(t for t in texts if t)

    def shown(self, text: str | None) -> str:
        """``text`` as the operator reads it."""
        if not text:
            return text or ""
        return gettext(text) if text in self.texts else text

    def kept(self, submitted: str, stored: str | None) -> str:
        """What to store for ``submitted``: the seeded original when it came back as shown."""
        if stored in self.texts and submitted.strip() == self.shown(stored).strip():
            return stored
        return submitted
