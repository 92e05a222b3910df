"""The OTP engine: start a verification (send a code) and check a code.

Rules (OWASP ASVS 2.7, NIST 800-63B, Twilio Verify's numbers):

- codes come from ``secrets`` (a CSPRNG), 4–10 digits (default 6);
- only a keyed hash of the code is stored, bound to the verification id, and compared in
  constant time; the code never reaches a log line or a plaintext column (the send log keeps
  the message body with the code masked);
- a verification lives at most 10 minutes (default 3) and has one live code;
- **a new start for the same phone and purpose replaces the code**: the earlier pending
  verification is canceled (so an older code can never approve), and the new one gets a
  fresh code and a fresh lifetime; starts within the purpose's resend cooldown are refused
  with 429, as are starts over the throttle policies; a partial unique index keeps one
  pending verification per phone and purpose when starts race (the later one redoes its
  reads and is refused or replaces the other); a start refused after the throttle counted it
  gives the count back, so only starts that send spend the budget;
- a correct check consumes the verification atomically (a conditional UPDATE from
  ``pending``), so two concurrent correct checks give exactly one ``approved``;
- wrong checks count per verification (``max_checks``, then the verification is dead) and per
  phone/IP through the ``otp_check_failure`` throttle policies;
- expired, approved, canceled and dead verifications never approve.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from kmsg_console import sending
from kmsg_console.audit.services import record_audit
from kmsg_console.events import outbox
from kmsg_console.events.models import OutboxEvent
from kmsg_console.events.types import EventType
from kmsg_console.extensions import db, end_read_transaction
from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.phone import InvalidPhoneNumber, mask_phone, normalize_recipient
from kmsg_console.messaging.variables import render_template
from kmsg_console.observability import metrics
from kmsg_console.orm import utcnow
from kmsg_console.otp.models import (
    MAX_LIFETIME_SECONDS,
    OtpChannel,
    Verification,
    VerificationEvent,
    VerificationPurpose,
    VerificationStatus,
)
from kmsg_console.providers import services as provider_services
from kmsg_console.seeded_texts import SeededTexts
from kmsg_console.sending.models import MessageSource, MessageStatus
from kmsg_console.sending.records import RowUpdate, durability_point
from kmsg_console.throttle.engine import ThrottleContext, check_and_consume, give_back

#: The engine's clock; tests replace it to walk through expiry.
clock = utcnow

PHONE_PURPOSE = sending.PHONE_HASH_PURPOSE
#: Lengths a purpose's codes may have.
CODE_LENGTHS = range(4, 11)

DEFAULT_PURPOSES = (
    ("login", N_("Login")),
    ("signup", N_("Sign-up")),
    ("password_reset", N_("Password reset")),
    ("payment", N_("Payment")),
)
#: The standard purposes' names: shown translated until an operator renames them.
SEEDED_NAMES = SeededTexts(name for _code, name in DEFAULT_PURPOSES)


class OtpRefused(Exception):
    """A start or check that cannot proceed; ``status`` and ``code`` map onto the API error."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.details = details


@dataclass(frozen=True)
class CheckResult:
    verification: Verification
    status: VerificationStatus
    attempts_left: int


def _hash_code(verification_public_id: str, code: str) -> str:
    key = current_app.config["KEYRING"].hash_key
    return hmac.new(
        key, f"otp:{verification_public_id}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def generate_code(length: int) -> str:
    """A uniformly random numeric code of ``length`` digits."""
    return f"{secrets.randbelow(10**length):0{length}d}"


def _event(verification: Verification, kind: str, detail: str | None = None) -> None:
    verification.events.append(VerificationEvent(at=clock(), kind=kind, detail=detail))


@dataclass(frozen=True)
class PurposeSettings:
    """What a start needs of its purpose, as read once at its beginning."""

    id: int
    code: str
    enabled: bool
    code_length: int
    lifetime_seconds: int
    max_checks: int
    resend_cooldown_seconds: int
    channel: str
    alimtalk_template_code: str | None
    sms_fallback: bool
    brand: str
    message_template: str
    sender_number: str | None


#: Statements every OTP start runs, built once (their cache keys too); values bind per call.
_PURPOSE_BY_CODE = sa.select(VerificationPurpose).where(
    VerificationPurpose.code == sa.bindparam("code")
)
_PURPOSES = VerificationPurpose.__table__
#: Core, not an ORM load of the purpose (bench/otp_profile.py): a start only reads its settings.
_PURPOSE_SETTINGS = sa.select(
    *(_PURPOSES.c[field.name] for field in fields(PurposeSettings))
).where(_PURPOSES.c.code == sa.bindparam("code"))
_VERIFICATIONS = Verification.__table__
#: Core, not an ORM load: most starts find nothing (a number's first code in a while), and
#: the few rows found are only read for their status and time (bench/otp_profile.py).
_EARLIER_STARTS = sa.select(
    _VERIFICATIONS.c.id, _VERIFICATIONS.c.status, _VERIFICATIONS.c.created_at
).where(
    _VERIFICATIONS.c.phone_hash == sa.bindparam("phone_hash"),
    _VERIFICATIONS.c.purpose_id == sa.bindparam("purpose_id"),
    sa.or_(
        _VERIFICATIONS.c.status == VerificationStatus.PENDING.value,
        _VERIFICATIONS.c.created_at
        > sa.bindparam("recent_since", type_=_VERIFICATIONS.c.created_at.type),
    ),
)


def get_purpose(code: str) -> VerificationPurpose | None:
    return db.session.scalar(_PURPOSE_BY_CODE, {"code": code})


def purpose_settings(code: str) -> PurposeSettings | None:
    row = db.session.connection().execute(_PURPOSE_SETTINGS, {"code": code}).first()
    return PurposeSettings(*row) if row is not None else None


def ensure_default_purposes() -> None:
    """Create the standard purposes on an empty install (idempotent)."""
    for code, name in DEFAULT_PURPOSES:
        if get_purpose(code) is None:
            db.session.add(VerificationPurpose(code=code, name=name, brand="kmsg"))
    db.session.flush()


def validate_purpose_settings(
    code_length: int,
    lifetime_seconds: int,
    max_checks: int,
    resend_cooldown_seconds: int,
    message_template: str,
) -> list[tuple[str, str]]:
    """Problems with a purpose's settings as ``(field, message code)`` pairs."""
    problems = []
    if code_length not in CODE_LENGTHS:
        problems.append(("code_length", "code_length_range"))
    if not 30 <= lifetime_seconds <= MAX_LIFETIME_SECONDS:
        problems.append(("lifetime_seconds", "lifetime_range"))
    if not 1 <= max_checks <= 10:
        problems.append(("max_checks", "max_checks_range"))
    if not 0 <= resend_cooldown_seconds <= 3600:
        problems.append(("resend_cooldown_seconds", "cooldown_range"))
    if "#{code}" not in message_template:
        problems.append(("message_template", "template_needs_code"))
    return problems


def render_sms(purpose: VerificationPurpose | PurposeSettings, code: str) -> str:
    minutes = max(1, purpose.lifetime_seconds // 60)
    return render_template(
        purpose.message_template, {"code": code, "minutes": minutes, "brand": purpose.brand}
    )


def _normalized_phone(raw: str) -> str:
    try:
        return normalize_recipient(raw)
    except InvalidPhoneNumber as exc:
        raise OtpRefused(422, "invalid_phone", str(exc)) from exc


@dataclass(frozen=True)
class EarlierStart:
    """A verification of the same phone and purpose that a new start must look at."""

    id: int
    status: str
    created_at: datetime

    @property
    def pending(self) -> bool:
        return self.status == VerificationStatus.PENDING.value


def _earlier_starts(phone_hash: str, purpose: PurposeSettings, now: datetime) -> list[EarlierStart]:
    """This phone's verifications for ``purpose`` that are still pending or within the cooldown.

    One query answers both questions a start asks: is the last start too recent (the resend
    cooldown), and which codes must stop working (the pending ones).
    """
    rows = db.session.connection().execute(
        _EARLIER_STARTS,
        {
            "phone_hash": phone_hash,
            "purpose_id": purpose.id,
            "recent_since": now - timedelta(seconds=purpose.resend_cooldown_seconds),
        },
    )
    return [EarlierStart(*row) for row in rows]


def _pending_to_replace(earlier: list[EarlierStart]) -> list[Verification]:
    """The pending ones among ``earlier``, loaded to be canceled (usually none)."""
    ids = [start.id for start in earlier if start.pending]
    if not ids:
        return []
    # Still pending when loaded: one approved or expired since the first read stays so.
    return list(
        db.session.scalars(
            sa.select(Verification).where(
                Verification.id.in_(ids), Verification.status == VerificationStatus.PENDING.value
            )
        )
    )


#: How often a start is redone when concurrent starts for the same number keep winning.
ISSUE_ATTEMPTS = 3


def start(
    *,
    phone: str,
    purpose_code: str,
    client_ip: str | None = None,
    user_ref: str | None = None,
    api_key_id: int | None = None,
    operator=None,
    provider_code: str | None = None,
) -> Verification:
    """Start a verification: throttle, replace any pending one, send a fresh code.

    The answer is the same whether or not the number was seen before. ``provider_code``
    sends a console test through that sandbox provider instead of the routing table.
    """
    purpose = purpose_settings(purpose_code)
    if purpose is None or not purpose.enabled:
        raise OtpRefused(
            422, "unknown_purpose", f"No enabled verification purpose {purpose_code!r}."
        )
    if provider_code is not None and provider_code not in test_providers():
        raise OtpRefused(
            422, "unknown_provider", f"{provider_code!r} is not an enabled sandbox provider."
        )
    digits = _normalized_phone(phone)
    keyring = current_app.config["KEYRING"]
    phone_hash = keyring.lookup_hash(digits, PHONE_PURPOSE)
    now = clock()

    earlier = _earlier_starts(phone_hash, purpose, now)
    _check_cooldown(purpose, earlier, now)
    end_read_transaction()  # no connection idle in transaction while the throttle decides

    decision = check_and_consume(
        "otp_start",
        ThrottleContext(
            phone=digits,
            ip=client_ip,
            api_key_id=api_key_id,
            purpose=purpose.code,
            user_ref=user_ref,
        ),
        now=now,
    )
    if not decision.allowed:
        metrics.OTP_STARTS.labels(purpose.code, "throttled").inc()
        raise OtpRefused(
            429,
            "throttled",
            "Too many verification requests; try again later.",
            retry_after=decision.retry_after_seconds or 60,
        )

    try:
        return _issue_with_retries(
            purpose,
            earlier,
            digits=digits,
            phone_hash=phone_hash,
            now=now,
            client_ip=client_ip,
            user_ref=user_ref,
            api_key_id=api_key_id,
            operator=operator,
            provider_code=provider_code,
        )
    except OtpRefused as exc:
        if exc.status == 429:
            # A racing start's code showed up after this one was counted (the cooldown, or
            # too many racers): nothing was sent, so nothing may stay spent, or such
            # refusals would use up the number's budget for the starts that do send.
            give_back(decision)
        raise


def _issue_with_retries(
    purpose: PurposeSettings,
    earlier: list[EarlierStart],
    *,
    digits: str,
    phone_hash: str,
    now: datetime,
    client_ip: str | None,
    user_ref: str | None,
    api_key_id: int | None,
    operator,
    provider_code: str | None = None,
) -> Verification:
    """Issue the code, redone when a concurrent start for the same number got there first."""
    for _attempt in range(ISSUE_ATTEMPTS):
        public_id = str(uuid.uuid4())
        try:
            return _issue(
                purpose,
                earlier,
                public_id=public_id,
                digits=digits,
                phone_hash=phone_hash,
                now=now,
                client_ip=client_ip,
                user_ref=user_ref,
                api_key_id=api_key_id,
                operator=operator,
                provider_code=provider_code,
            )
        except IntegrityError:
            # A concurrent start for this phone and purpose committed its pending code
            # between our read and our first write: the database allows one pending
            # verification per phone and purpose (uq_verification_one_pending). Read again
            # and redo: within the cooldown this start is refused like any other; without
            # one, it replaces that code.
            db.session.rollback()
            if db.session.scalar(
                sa.select(Verification.id).where(Verification.public_id == public_id)
            ):
                raise  # ours was committed, so its code may have left: never send another
            earlier = _earlier_starts(phone_hash, purpose, now)
            if not any(start.pending for start in earlier):
                raise
            _check_cooldown(purpose, earlier, now)
    raise OtpRefused(
        429,
        "throttled",
        "Too many simultaneous requests for this number; try again.",
        retry_after=1,
    )


def _check_cooldown(purpose: PurposeSettings, earlier: list[EarlierStart], now: datetime) -> None:
    if earlier and purpose.resend_cooldown_seconds:
        latest = max(v.created_at for v in earlier)
        wait = latest + timedelta(seconds=purpose.resend_cooldown_seconds) - now
        if wait.total_seconds() > 0:
            raise OtpRefused(
                429,
                "resend_cooldown",
                "Wait before requesting another code.",
                retry_after=max(1, int(wait.total_seconds() + 0.999)),
            )


def _issue(
    purpose: PurposeSettings,
    earlier: list[EarlierStart],
    *,
    public_id: str,
    digits: str,
    phone_hash: str,
    now: datetime,
    client_ip: str | None,
    user_ref: str | None,
    api_key_id: int | None,
    operator,
    provider_code: str | None = None,
) -> Verification:
    """Replace the pending code (if any) with a new verification and send its code."""
    keyring = current_app.config["KEYRING"]
    replaced = _pending_to_replace(earlier)

    code = generate_code(purpose.code_length)
    # The message's id is fixed now and stored with the verification, so linking the two
    # needs no extra write after the send.
    message_public_id = str(uuid.uuid4())
    verification = Verification(
        public_id=public_id,
        purpose_id=purpose.id,
        created_at=now,
        status=VerificationStatus.PENDING.value,
        message_public_id=message_public_id,
        status_updated_at=now,
        phone_hash=phone_hash,
        phone_enc=keyring.encrypt(digits, f"verification:{public_id}:phone"),
        phone_masked=mask_phone(digits),
        code_hash=_hash_code(public_id, code),
        expires_at=now + timedelta(seconds=purpose.lifetime_seconds),
        max_checks=purpose.max_checks,
        channel=purpose.channel,
        api_key_id=api_key_id,
        operator_id=getattr(operator, "id", None),
        client_ip_masked=_mask_ip(client_ip),
        user_ref_hash=keyring.lookup_hash(user_ref, "user_ref") if user_ref else None,
    )
    _event(verification, "pending", f"code sent by {purpose.channel}")

    send_request = _send_request(purpose, digits, code, provider_code)
    try:
        # The verification (and the cancellation of the one it replaces) is committed with
        # the message row and its first attempt, before the provider is called: the
        # verification exists before its code leaves.
        result = sending.send(
            send_request,
            source=MessageSource.OTP,
            api_key_id=api_key_id,
            operator_id=getattr(operator, "id", None),
            sensitive_values=[code],
            message_id=message_public_id,
            also_write=_verification_rows(verification, replaced, now, purpose.code),
        )
    except sending.SendRefused as exc:
        # Refused before anything was written: the verification is recorded, canceled.
        verification.message_public_id = None  # no message was logged
        verification.status = VerificationStatus.CANCELED.value
        _event(verification, "canceled", f"send refused: {exc.code}")
        with durability_point() as point:
            point.apply(*_verification_rows(verification, replaced, now, purpose.code))
        raise OtpRefused(
            502,
            "send_failed",
            f"The code could not be sent: {exc.message}",
            details={"verification_id": public_id},
        ) from exc
    log = result.log
    if log.status == MessageStatus.FAILED.value:
        _fail(verification, f"send failed: {log.error_code}")
        raise OtpRefused(
            502,
            "send_failed",
            "The code could not be sent.",
            details={"verification_id": public_id, "send_error": log.error_code},
        )
    metrics.OTP_STARTS.labels(purpose.code, "sent").inc()
    if operator is not None:
        record_audit(
            "otp.test_start",
            actor=operator,
            target_type="verification",
            target_id=public_id,
            details={
                "purpose": purpose.code,
                "to": verification.phone_masked,
                **({"provider": provider_code} if provider_code else {}),
            },
        )
        db.session.commit()
    # Otherwise the send's last commit wrote everything this start has to say.
    return verification


def _verification_rows(
    verification: Verification, replaced: list[Verification], now: datetime, purpose: str
) -> list[Verification | VerificationEvent | OutboxEvent | RowUpdate]:
    """The writes of a new verification: the pending ones it replaces canceled, then itself.

    The earlier pending verifications are canceled first: the partial unique index
    uq_verification_one_pending refuses a second pending one, which is how a concurrent
    start that got there first shows (IntegrityError).
    """
    writes: list[Verification | VerificationEvent | OutboxEvent | RowUpdate] = []
    for old in replaced:
        canceled = {"status": VerificationStatus.CANCELED.value, "status_updated_at": now}
        writes.append(RowUpdate(old, canceled))
        writes.append(
            VerificationEvent(
                verification_id=old.id,
                at=now,
                kind="canceled",
                detail="replaced by a new verification",
            )
        )
        writes.append(outbox.verification_event(_CANCELED, old, purpose=purpose, at=now))
    started = verification.status == VerificationStatus.PENDING.value
    writes.extend([verification, *verification.events])
    writes.append(
        outbox.verification_event(
            EventType.VERIFICATION_STARTED if started else _CANCELED,
            verification,
            purpose=purpose,
            at=now,
        )
    )
    return writes


def _fail(verification: Verification, detail: str) -> None:
    verification.status = VerificationStatus.CANCELED.value
    verification.status_updated_at = clock()
    _event(verification, "canceled", detail)
    db.session.add(_outbox_event(_CANCELED, verification))
    db.session.commit()


def _mask_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    if ":" in ip:
        return ip.split(":")[0] + ":…"
    parts = ip.split(".")
    return ".".join(parts[:2] + ["*", "*"]) if len(parts) == 4 else "…"


def test_providers() -> dict[str, str]:
    """Providers a console test may name instead of the routing table: the enabled sandboxes.

    Only a sandbox: it delivers nothing, so a test through it leaves live traffic alone and
    its code shows in the console; a live provider is reached through routing.
    """
    return {p.code: p.name for p in provider_services.enabled_providers() if p.vendor == "sandbox"}


def _send_request(
    purpose: PurposeSettings, digits: str, code: str, provider_code: str | None = None
) -> sending.SendRequest:
    sms_text = render_sms(purpose, code)
    if purpose.channel == OtpChannel.ALIMTALK.value and purpose.alimtalk_template_code:
        return sending.SendRequest(
            to=digits,
            type="ALIMTALK",
            template_code=purpose.alimtalk_template_code,
            variables={
                "code": code,
                "minutes": max(1, purpose.lifetime_seconds // 60),
                "brand": purpose.brand,
            },
            from_=purpose.sender_number,
            failover={"enabled": True, "channel": "sms", "content": sms_text}
            if purpose.sms_fallback
            else None,
            provider=provider_code,
        )
    # No explicit type: SMS, or LMS when the filled-in text is over 90 bytes.
    return sending.SendRequest(
        to=digits, text=sms_text, from_=purpose.sender_number, provider=provider_code
    )


def find(public_id: str) -> Verification | None:
    return db.session.scalar(sa.select(Verification).where(Verification.public_id == public_id))


def _transition(
    verification: Verification, to_status: VerificationStatus, *, extra: dict | None = None
) -> bool:
    """Move from pending to ``to_status`` atomically; False when another request got there first."""
    now = clock()
    values = {"status": to_status.value, "status_updated_at": now, **(extra or {})}
    result = db.session.execute(
        sa.update(Verification)
        .where(
            Verification.id == verification.id,
            Verification.status == VerificationStatus.PENDING.value,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def check(
    public_id: str,
    code: str,
    *,
    client_ip: str | None = None,
    api_key_id: int | None = None,
    operator=None,
) -> CheckResult:
    """Check ``code`` against the verification; see the module rules."""
    result = _check(public_id, code, client_ip=client_ip, api_key_id=api_key_id, operator=operator)
    metrics.OTP_CHECKS.labels(result.verification.purpose.code, result.status.value).inc()
    return result


def _check(
    public_id: str, code: str, *, client_ip: str | None, api_key_id: int | None, operator
) -> CheckResult:
    verification = find(public_id)
    if verification is None or (
        api_key_id is not None and verification.api_key_id not in (api_key_id, None)
    ):
        raise OtpRefused(404, "not_found", "No verification with this id.")
    candidate = _well_formed(verification, code)
    now = clock()
    status = verification.status_enum
    if status is VerificationStatus.APPROVED:
        # Replaying a used code (or a second check after success) must never look like success.
        raise OtpRefused(
            409, "already_approved", "This verification was already approved; start a new one."
        )
    if status is not VerificationStatus.PENDING:
        return CheckResult(verification, status, 0)
    if now >= verification.expires_at:
        if _transition(verification, VerificationStatus.EXPIRED):
            _event(verification, "expired")
            db.session.add(_outbox_event(EventType.VERIFICATION_EXPIRED, verification))
        db.session.commit()
        db.session.refresh(verification)
        return CheckResult(verification, verification.status_enum, 0)

    keyring = current_app.config["KEYRING"]
    digits = keyring.decrypt(verification.phone_enc, f"verification:{public_id}:phone")
    throttle_ctx = ThrottleContext(
        phone=digits, ip=client_ip, api_key_id=api_key_id, purpose=verification.purpose.code
    )
    end_read_transaction()  # no connection idle in transaction while the throttle decides
    gate = check_and_consume("otp_check_failure", throttle_ctx, now=now, dry_run=True)
    if not gate.allowed:
        raise OtpRefused(
            429,
            "throttled",
            "Too many wrong codes for this number; try again later.",
            retry_after=gate.retry_after_seconds or 60,
        )

    correct = hmac.compare_digest(_hash_code(public_id, candidate), verification.code_hash)
    if correct:
        if _transition(verification, VerificationStatus.APPROVED, extra={"approved_at": now}):
            _event(verification, "approved")
            db.session.add(_outbox_event(EventType.VERIFICATION_APPROVED, verification))
            if operator is not None:
                record_audit(
                    "otp.test_check",
                    actor=operator,
                    target_type="verification",
                    target_id=public_id,
                    details={"result": "approved"},
                )
            db.session.commit()
            db.session.refresh(verification)
            return CheckResult(verification, VerificationStatus.APPROVED, 0)
        db.session.rollback()
        raise OtpRefused(
            409, "already_approved", "This verification was already approved; start a new one."
        )

    # Wrong code: count it on the phone/IP policies (their own transaction, before this
    # session takes SQLite's write lock) and on the verification (atomically).
    check_and_consume("otp_check_failure", throttle_ctx, now=now)
    db.session.execute(
        sa.update(Verification)
        .where(
            Verification.id == verification.id,
            Verification.status == VerificationStatus.PENDING.value,
        )
        .values(checks=Verification.checks + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(verification)
    _event(
        verification, "check_failed", f"attempt {verification.checks} of {verification.max_checks}"
    )
    if verification.checks >= verification.max_checks and _transition(
        verification, VerificationStatus.MAX_ATTEMPTS
    ):
        _event(verification, "max_attempts")
        db.session.add(_outbox_event(EventType.VERIFICATION_MAX_ATTEMPTS, verification))
    if operator is not None:
        record_audit(
            "otp.test_check",
            actor=operator,
            target_type="verification",
            target_id=public_id,
            outcome="failure",
            details={"result": "wrong_code"},
        )
    db.session.commit()
    db.session.refresh(verification)
    left = (
        max(0, verification.max_checks - verification.checks)
        if verification.status == "pending"
        else 0
    )
    return CheckResult(verification, verification.status_enum, left)


def _well_formed(verification: Verification, code: object) -> str:
    """``code`` stripped, if it can be this verification's code; else 422 ``invalid_code``.

    A typo of that kind (a letter, a digit too many) is no guess at the code: it spends no
    attempt and no count on the wrong-code throttle policies.
    """
    candidate = code.strip() if isinstance(code, str) else ""
    purpose = verification.purpose
    lengths = range(purpose.code_length, purpose.code_length + 1)
    if purpose.updated_at > verification.created_at:
        # The purpose was edited since this code was issued: its length may have changed.
        lengths = CODE_LENGTHS
    if candidate.isascii() and candidate.isdigit() and len(candidate) in lengths:
        return candidate
    raise OtpRefused(
        422,
        "invalid_code",
        f"The code is {purpose.code_length} digits (0-9); "
        "it was not checked and no attempt was used.",
        details={"code_length": purpose.code_length},
    )


def cancel(verification: Verification, *, operator=None) -> bool:
    if _transition(verification, VerificationStatus.CANCELED):
        _event(verification, "canceled", "canceled by request")
        db.session.add(_outbox_event(_CANCELED, verification))
        if operator is not None:
            record_audit(
                "otp.cancel",
                actor=operator,
                target_type="verification",
                target_id=verification.public_id,
            )
        db.session.commit()
        return True
    return False


def expire_due(now: datetime | None = None) -> int:
    """Mark pending verifications past their lifetime as expired (for lists and workers)."""
    now = now or clock()
    expired = db.session.execute(
        sa.update(Verification)
        .where(
            Verification.status == VerificationStatus.PENDING.value, Verification.expires_at <= now
        )
        .values(status=VerificationStatus.EXPIRED.value, status_updated_at=now)
        .returning(*_EVENT_COLUMNS)
        .execution_options(synchronize_session=False)
    ).all()
    if expired:
        codes = sa.select(VerificationPurpose.id, VerificationPurpose.code)
        purposes = {row.id: row.code for row in db.session.execute(codes)}
        db.session.add_all(
            outbox.verification_event(
                EventType.VERIFICATION_EXPIRED, row, purpose=purposes.get(row.purpose_id), at=now
            )
            for row in expired
        )
    db.session.commit()
    return len(expired)


_CANCELED = EventType.VERIFICATION_CANCELED
#: What a verification's event says of it (``outbox.verification_event``).
_EVENT_COLUMNS = (
    Verification.public_id,
    Verification.purpose_id,
    Verification.channel,
    Verification.phone_masked,
    Verification.message_public_id,
    Verification.expires_at,
)


def _outbox_event(type: EventType, verification: Verification) -> OutboxEvent:
    return outbox.verification_event(type, verification, purpose=verification.purpose.code)
