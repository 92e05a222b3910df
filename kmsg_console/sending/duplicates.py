"""The duplicate-send window (NHN Cloud's 중복 발송 차단): the same text to the same number
within N minutes is refused with 409 ``duplicate_message``.

"The same" means the same type, sender, recipient, subject and final text. The send log
keeps a keyed hash of these (``message_log.dedupe_hash``, never the text in clear) and the
rule looks for an earlier message with that hash, created within the window, that did not
fail (a failed message may be sent again). The window is off by default; an admin sets it
globally (``/settings/sending``) and may override it per provider (the provider form): the
window in force is the one of the provider the message would go through first. OTP
messages are exempt, and an ``Idempotency-Key`` replay never gets here: the engine returns
the original message before the rules run.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app

from kmsg_console.extensions import db
from kmsg_console.messaging.types import Message
from kmsg_console.providers.models import Provider
from kmsg_console.sending.models import MessageLog, MessageSource, MessageStatus
from kmsg_console.sending.request import final_text
from kmsg_console.settings import services as settings

if TYPE_CHECKING:
    from kmsg_console.sending.rules import Candidate

#: NHN Cloud allows up to 60 minutes.
MAX_WINDOW_MINUTES = 60
#: The console-wide window, in minutes (0 or absent: off).
GLOBAL_KEY = "sending.duplicate_window_minutes"
HASH_PURPOSE = "message:dedupe"
ERROR_CODE = "duplicate_message"


def dedupe_hash(message: Message, *, source: MessageSource, sensitive: bool = False) -> str | None:
    """The keyed hash of what makes two messages "the same"; None for OTP messages (exempt,
    and their text holds a code)."""
    if source is MessageSource.OTP or sensitive:
        return None
    parts = [
        message.type.value,
        message.from_ or "",
        message.to,
        message.subject or "",
        final_text(message) or "",
    ]
    value = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return current_app.config["KEYRING"].lookup_hash(value, HASH_PURPOSE)


def global_window() -> int:
    """The console-wide window in minutes (0: off)."""
    return int(settings.get(GLOBAL_KEY, 0) or 0)


def save_global_window(minutes: int, *, actor: Any, actor_label: str | None = None) -> bool:
    """Set the console-wide window (0 turns it off); audited. The caller commits."""
    if not 0 <= minutes <= MAX_WINDOW_MINUTES:
        raise ValueError(f"the window is 0 to {MAX_WINDOW_MINUTES} minutes")
    return settings.put(GLOBAL_KEY, minutes, actor=actor, default=0, actor_label=actor_label)


def window_for(provider_code: str | None) -> int:
    """The window in force for a message going through ``provider_code``: the provider's own
    setting when it has one, else the console-wide one."""
    if provider_code:
        own = db.session.scalar(
            sa.select(Provider.duplicate_window_minutes).where(Provider.code == provider_code)
        )
        if own is not None:
            return own
    return global_window()


def check(candidate: Candidate) -> None:
    """Refuse ``candidate`` when the same message went to the same number within the window.

    :raises RuleRefusal: 409 ``duplicate_message`` naming the earlier message.
    """
    from kmsg_console.sending.rules import RuleRefusal

    if candidate.source is MessageSource.OTP:
        return
    minutes = candidate.lookups.duplicate_window(candidate.chain[0] if candidate.chain else None)
    if minutes <= 0:
        return
    digest = dedupe_hash(candidate.message, source=candidate.source)
    if digest is None:
        return
    earlier = db.session.execute(
        sa.select(MessageLog.public_id, MessageLog.created_at)
        .where(
            MessageLog.dedupe_hash == digest,
            MessageLog.created_at > candidate.now - timedelta(minutes=minutes),
            MessageLog.status != MessageStatus.FAILED.value,
        )
        .order_by(MessageLog.created_at.desc())
        .limit(1)
    ).first()
    if earlier is None:
        return
    elapsed = max(int((candidate.now - earlier.created_at).total_seconds() // 60), 0)
    when = "less than a minute ago" if elapsed == 0 else f"{elapsed} min ago"
    raise RuleRefusal(
        409,
        ERROR_CODE,
        f"The same text was sent to this number {when} (message {earlier.public_id}); "
        f"the duplicate-send window refuses it for {minutes} min after the first send.",
    )
