"""The send engine: every message (API, console, OTP, templates, worker) goes through here.

Features depend on this package; it depends on ``messaging`` (the framework-free core) and
``providers`` (adapters and routing), never on a feature. Read ``engine.py`` top to bottom
for the path of one message; ``request.py`` checks what is asked, ``records.py`` writes the
durable rows, ``reading.py`` reads them back.
"""

from kmsg_console.sending.engine import (
    FIRST_CHECK_DELAY,
    REDACTION,
    SCHEDULED_GRACE,
    BatchItem,
    BatchOutcome,
    SendResult,
    rebuild_message,
    record_status,
    retry,
    send,
    send_batch,
)
from kmsg_console.sending.reading import (
    PHONE_HASH_PURPOSE,
    attempts_summary,
    decrypt_body,
    find_by_public_id,
    find_fallback,
    phone_hash,
    sandbox_inbox,
)
from kmsg_console.sending.records import RowUpdate
from kmsg_console.sending.request import (
    Preview,
    SendRefused,
    SendRequest,
    TemplateBody,
    final_text,
    prepare,
    preview,
    use_template_resolver,
)

__all__ = [
    "BatchItem",
    "BatchOutcome",
    "FIRST_CHECK_DELAY",
    "PHONE_HASH_PURPOSE",
    "REDACTION",
    "SCHEDULED_GRACE",
    "Preview",
    "RowUpdate",
    "SendRefused",
    "SendRequest",
    "SendResult",
    "TemplateBody",
    "attempts_summary",
    "decrypt_body",
    "final_text",
    "find_by_public_id",
    "find_fallback",
    "phone_hash",
    "prepare",
    "preview",
    "rebuild_message",
    "record_status",
    "retry",
    "send",
    "send_batch",
    "sandbox_inbox",
    "use_template_resolver",
]
