"""K-Message core for the console: message model, byte counting, phone numbers,
normalized errors, results, the provider contract and the failover router.

Framework-free on purpose (no Flask imports): the web app, the workers and
the CLI all share it.
"""

from .encoding import ByteCount, count_bytes, decide_sms_or_lms
from .errors import Acceptance, ErrorCode, SendError
from .phone import InvalidPhoneNumber, mask_phone, normalize_recipient, normalize_sender
from .prepare import PreparedMessage, prepare_message
from .provider import DeliveryStatus, HealthResult, Provider
from .result import Err, Ok, SendOutcome, SendResult, SendStatus
from .router import Attempt, RouteOutcome, Router
from .types import (
    Failover,
    FallbackChannel,
    KakaoOptions,
    MediaImage,
    Message,
    MessageType,
    MessageValidationError,
    MessageWarning,
)
from .vendor_codes import explain

__all__ = [
    "Acceptance",
    "Attempt",
    "ByteCount",
    "DeliveryStatus",
    "Err",
    "ErrorCode",
    "Failover",
    "FallbackChannel",
    "HealthResult",
    "InvalidPhoneNumber",
    "KakaoOptions",
    "MediaImage",
    "Message",
    "MessageType",
    "MessageValidationError",
    "MessageWarning",
    "Ok",
    "PreparedMessage",
    "Provider",
    "RouteOutcome",
    "Router",
    "SendError",
    "SendOutcome",
    "SendResult",
    "SendStatus",
    "count_bytes",
    "decide_sms_or_lms",
    "explain",
    "mask_phone",
    "normalize_recipient",
    "normalize_sender",
    "prepare_message",
]
