"""Kakao sender profiles: add, edit, remove, sync from the vendors, and the checks the
template form and the console's Kakao forms make. Services flush; views commit. Every
change is audited.

Vendors with a channel API are synced through their adapters: SOLAPI lists the account's
linked channels (``GET /kakao/v2/channels``; a listed channel is active, SOLAPI reports no
other state), Aligo lists its registered profiles with Kakao's status codes
(``/akv10/profile/list/``). IWINV has no channel API (its channel is bound to the API key in
its own console) and the sandbox has no Kakao: their profiles are entered by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError

from kmsg_console.audit.services import diff, record_audit
from kmsg_console.extensions import db
from kmsg_console.field_errors import FieldError
from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.errors import SendError
from kmsg_console.messaging.provider import KakaoChannel
from kmsg_console.messaging.result import Err
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.models import Provider

from .models import KEY_MAX, KakaoProfile, ProfileSource, ProfileStatus, configured_key
from .usage import registered

#: Kakao's sender-profile codes as Aligo relays them (``status`` / ``profileStat``):
#: A normal, C (and B) blocked, D deleted. Anything else is kept raw and shown as unknown.
_ALIGO_CODES = {
    "A": ProfileStatus.ACTIVE,
    "B": ProfileStatus.BLOCKED,
    "C": ProfileStatus.BLOCKED,
    "D": ProfileStatus.DELETED,
}
#: Worst first: one code saying blocked outweighs another saying active.
_SEVERITY = (
    ProfileStatus.DELETED,
    ProfileStatus.BLOCKED,
    ProfileStatus.DORMANT,
    ProfileStatus.UNKNOWN,
    ProfileStatus.ACTIVE,
)


class ProfileError(FieldError):
    """Input that cannot become a profile; ``field`` names the form field, ``reason`` is
    an ``N_()`` template formatted with ``params``."""


class SyncError(Exception):
    """The vendor's channel list could not be read (nothing was changed)."""

    def __init__(self, error: SendError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass
class SyncSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Registered here but not listed by the vendor (now "not at the provider").
    missing: list[str] = field(default_factory=list)


# -- reading --------------------------------------------------------------------------------


def can_sync(provider: Provider) -> bool:
    """True when the provider's vendor lists its Kakao channels through an API."""
    from kmsg_console.providers.adapters.registry import ADAPTERS

    return hasattr(ADAPTERS.get(provider.vendor), "list_kakao_channels")


def kakao_providers() -> list[Provider]:
    """The providers a sender profile can belong to: every vendor the console knows sends
    AlimTalk (IWINV only with its AlimTalk key, which its adapter checks when sending)."""
    from kmsg_console.providers.adapters.registry import ADAPTERS

    return [p for p in provider_services.all_providers() if p.vendor in ADAPTERS]


def list_profiles(provider_code: str | None = None) -> list[KakaoProfile]:
    query = sa.select(KakaoProfile).order_by(KakaoProfile.provider_code, KakaoProfile.id)
    if provider_code:
        query = query.where(KakaoProfile.provider_code == provider_code)
    return list(db.session.scalars(query))


def templates_of(profile: KakaoProfile) -> list[Any]:
    """The message templates bound to ``profile`` (same provider, same key)."""
    from kmsg_console.message_templates.models import MessageTemplate

    return list(
        db.session.scalars(
            sa.select(MessageTemplate)
            .join(Provider, MessageTemplate.provider_id == Provider.id)
            .where(
                Provider.code == profile.provider_code,
                MessageTemplate.sender_profile == profile.profile_key,
            )
            .order_by(MessageTemplate.id)
        )
    )


def template_counts() -> dict[tuple[str, str], int]:
    """(provider code, key) -> number of templates, for the list page."""
    from kmsg_console.message_templates.models import MessageTemplate

    rows = db.session.execute(
        sa.select(Provider.code, MessageTemplate.sender_profile, sa.func.count())
        .join(Provider, MessageTemplate.provider_id == Provider.id)
        .where(MessageTemplate.sender_profile.is_not(None))
        .group_by(Provider.code, MessageTemplate.sender_profile)
    )
    return {(code, key): count for code, key, count in rows}


# -- checks for the console's forms ----------------------------------------------------------


def choices_for(provider: Provider | None) -> list[KakaoProfile]:
    """The profiles a form offers for ``provider``: registered ones, usable first."""
    if provider is None:
        return []
    profiles = list_profiles(provider.code)
    return sorted(profiles, key=lambda p: (not p.usable, p.id))


def form_problem(provider: Provider | None, key: str | None) -> tuple[str, dict[str, Any]] | None:
    """Why ``key`` cannot be picked for ``provider`` in the console (None when it can).

    A key the console has not registered for the provider is refused (register or sync it
    under Kakao sender profiles first), and so is a blocked, dormant or deleted one.
    """
    if provider is None or not key:
        return None
    profile = registered(provider.code, key)
    if profile is None:
        return (
            N_(
                "%(key)s is not a registered Kakao sender profile of %(provider)s. "
                "Register or sync it under Kakao sender profiles first."
            ),
            {"key": key, "provider": provider.code},
        )
    if not profile.usable:
        return (
            N_("The Kakao sender profile %(profile)s is %(status)s; Kakao sends nothing from it."),
            {"profile": profile.display, "status": gettext(profile.status_enum.label).lower()},
        )
    return None


# -- writing --------------------------------------------------------------------------------


def _snapshot(profile: KakaoProfile) -> dict[str, Any]:
    return {
        "provider": profile.provider_code,
        "key": profile.profile_key,
        "plus_id": profile.plus_id,
        "name": profile.name,
        "status": profile.status,
        "vendor_status": profile.vendor_status,
    }


def _audit(action: str, profile: KakaoProfile, actor: Any, details: dict[str, Any]) -> None:
    record_audit(
        f"kakao_profile.{action}",
        actor=actor,
        actor_label=None if actor else "system",
        target_type="kakao_profile",
        target_id=f"{profile.provider_code}/{profile.profile_key}",
        details=details,
    )


def _clean_plus_id(raw: str | None) -> str | None:
    text = (raw or "").strip()
    if not text:
        return None
    text = "@" + text.lstrip("@")
    if len(text) > 40 or any(c.isspace() for c in text):
        raise ProfileError("plus_id", N_("A channel id is @ and at most 39 characters."))
    return text


def _clean_key(raw: str | None) -> str:
    key = (raw or "").strip()
    if not key:
        raise ProfileError("profile_key", N_("Enter the profile key (pfId or senderKey)."))
    if len(key) > KEY_MAX or any(c.isspace() for c in key):
        raise ProfileError(
            "profile_key",
            N_("A profile key has at most %(max)s characters and no spaces."),
            max=KEY_MAX,
        )
    return key


def _status(raw: str | None) -> ProfileStatus:
    try:
        return ProfileStatus(raw or ProfileStatus.UNKNOWN.value)
    except ValueError:
        raise ProfileError("status", N_("Choose a status.")) from None


def add_profile(
    provider: Provider,
    key: str,
    *,
    plus_id: str | None = None,
    name: str | None = None,
    status: str | None = None,
    source: ProfileSource = ProfileSource.MANUAL,
    actor: Any,
) -> KakaoProfile:
    """Register a profile by hand.

    :raises ProfileError: for an empty or malformed key, or one already registered.
    """
    key = _clean_key(key)
    if registered(provider.code, key) is not None:
        raise ProfileError(
            "profile_key", N_("%(key)s is already registered for this provider."), key=key
        )
    profile = KakaoProfile(
        provider_code=provider.code,
        profile_key=key,
        plus_id=_clean_plus_id(plus_id),
        name=(name or "").strip()[:100] or None,
        status=_status(status).value,
        source=source.value,
    )
    try:
        with db.session.begin_nested():
            db.session.add(profile)
    except IntegrityError:
        raise ProfileError(
            "profile_key", N_("%(key)s is already registered for this provider."), key=key
        ) from None
    _audit("add", profile, actor, {"after": _snapshot(profile)})
    return profile


def update_profile(
    profile: KakaoProfile,
    *,
    plus_id: str | None,
    name: str | None,
    status: str | None,
    actor: Any,
) -> KakaoProfile:
    """Change what people see of a profile, or record its status by hand (a sync of a vendor
    with a channel API overwrites the status again)."""
    before = _snapshot(profile)
    profile.plus_id = _clean_plus_id(plus_id)
    profile.name = (name or "").strip()[:100] or None
    new_status = _status(status).value
    if new_status != profile.status:
        profile.status = new_status
        profile.vendor_status = None  # the vendor's code no longer describes it
    details = diff(before, _snapshot(profile))
    if details:
        _audit("update", profile, actor, details)
    return profile


def remove_profile(profile: KakaoProfile, *, actor: Any) -> None:
    _audit("remove", profile, actor, {"before": _snapshot(profile)})
    db.session.delete(profile)


def status_from_vendor(vendor: str, channel: KakaoChannel) -> ProfileStatus:
    """The normalized status of a channel a vendor listed."""
    if vendor == "solapi" and channel.vendor_status is None:
        return ProfileStatus.ACTIVE  # listed = linked; SOLAPI reports no other state
    codes = [c.strip().upper() for c in (channel.vendor_status or "").split("/") if c.strip()]
    if not codes:
        return ProfileStatus.UNKNOWN
    found = {_ALIGO_CODES.get(code, ProfileStatus.UNKNOWN) for code in codes}
    return next(status for status in _SEVERITY if status in found)


def sync_provider(provider: Provider, *, actor: Any) -> SyncSummary:
    """Import and update the provider's profiles from its vendor's channel list.

    Profiles registered here that the vendor no longer lists become "not at the provider".

    :raises SyncError: when the list cannot be read (nothing changes).
    :raises ProfileError: for a vendor without a channel API (profiles are entered by hand).
    """
    if not can_sync(provider):
        raise ProfileError(
            "provider",
            N_("%(provider)s has no channel API: enter its profiles by hand."),
            provider=provider.name,
        )
    result = provider_services.adapter_for(provider).list_kakao_channels()
    if isinstance(result, Err):
        raise SyncError(result.error)
    now = utcnow()
    summary = SyncSummary()
    listed: set[str] = set()
    for channel in result.value:
        key = channel.key[:KEY_MAX]
        listed.add(key)
        status = status_from_vendor(provider.vendor, channel)
        profile = registered(provider.code, key)
        if profile is None:
            profile = KakaoProfile(
                provider_code=provider.code, profile_key=key, source=ProfileSource.SYNC.value
            )
            db.session.add(profile)
            summary.added += 1
            before = None
        else:
            before = _snapshot(profile)
        profile.plus_id = (channel.plus_id or profile.plus_id or "")[:40] or None
        profile.name = (channel.name or profile.name or "")[:100] or None
        profile.status = status.value
        profile.vendor_status = (channel.vendor_status or "")[:40] or None
        profile.last_synced_at = now
        if before is not None:
            if _snapshot(profile) != before:
                summary.updated += 1
            else:
                summary.unchanged += 1
    for profile in list_profiles(provider.code):
        if profile.profile_key not in listed and profile.status != ProfileStatus.NOT_FOUND.value:
            profile.status = ProfileStatus.NOT_FOUND.value
            profile.vendor_status = None
            profile.last_synced_at = now
            summary.missing.append(profile.profile_key)
    db.session.flush()
    record_audit(
        "kakao_profile.sync",
        actor=actor,
        actor_label=None if actor else "system",
        target_type="provider",
        target_id=provider.code,
        details={
            "added": summary.added,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "not_listed": summary.missing,
        },
    )
    return summary


def register_configured(provider: Provider, *, actor: Any = None) -> KakaoProfile | None:
    """Register the channel the provider's settings name (status unknown until synced)."""
    key = configured_key(provider.vendor, provider.settings)
    if not key or registered(provider.code, key) is not None:
        return None
    return add_profile(provider, key, source=ProfileSource.SETTINGS, actor=actor)
