"""Opt-outs: a recipient's number, stored as the send log stores numbers, never in clear.

The number is kept as a keyed hash (``phone_hash``, the send log's lookup hash, so an
advertising send can be matched against the list), encrypted (``phone_enc``) and masked for
display (``phone_masked``). A recipient opts out of all advertising (scope ``global``) or of
one sender's advertising by calling the free 080 line named in it (scope: that line's digits).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import UTCDateTime, utcnow

#: Scope of an opt-out from every advertising message; 080 lines are digits, so never clash.
GLOBAL_SCOPE = "global"


class OptOutSource(StrEnum):
    """Where an opt-out came from."""

    CONSOLE = "console"
    CSV = "csv"
    API = "api"
    #: Synced from a vendor's block list (SOLAPI 수신 거부).
    VENDOR = "vendor"

    @property
    def label(self) -> str:
        return {
            OptOutSource.CONSOLE: N_("Console"),
            OptOutSource.CSV: N_("CSV import"),
            OptOutSource.API: N_("API"),
            OptOutSource.VENDOR: N_("Provider sync"),
        }[self]


class OptOut(db.Model):
    """One number opted out of advertising, globally or for one 080 line."""

    __tablename__ = "opt_out"
    __table_args__ = (
        sa.UniqueConstraint("phone_hash", "scope"),
        sa.Index("ix_opt_out_created_at_id", "created_at", "id"),
        sa.Index("ix_opt_out_scope_created_at_id", "scope", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    phone_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)
    phone_masked: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: ``global`` or the digits of an 080 opt-out line (``0801234567``).
    scope: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    source: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    note: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(sa.String(254), nullable=False)

    @property
    def is_global(self) -> bool:
        return self.scope == GLOBAL_SCOPE

    @property
    def source_label(self) -> str:
        try:
            return OptOutSource(self.source).label
        except ValueError:
            return self.source
