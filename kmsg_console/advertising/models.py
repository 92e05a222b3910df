"""The advertiser's name and free 080 opt-out line, one row for the whole console."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.orm import UTCDateTime, utcnow

#: The one row's id.
SETTINGS_ID = 1


class AdSettings(db.Model):
    """What the send form's "Add label and opt-out line" writes (``(광고) <name>``, the 080 line).

    The sender number and the 080 line are the business's own public numbers, stored in clear.
    """

    __tablename__ = "ad_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_name: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: Digits of a free 080 line (``0801234567``).
    opt_out_line: Mapped[str] = mapped_column(sa.String(11), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
    updated_by: Mapped[str | None] = mapped_column(sa.String(254))
