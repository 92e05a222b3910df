"""Whether a Kakao message may go out through a sender profile (read by the send rules).

Only the profile list and the providers are read here: the send engine imports this
module, so it imports nothing of the send engine or the console.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.providers.models import Provider

from .models import KakaoProfile, configured_key

ERROR_CODE = "kakao_profile_unusable"
FIELD = "kakao.profile_id"


@dataclass(frozen=True)
class Refusal:
    """Every provider of the chain would send through a blocked/dormant/deleted profile."""

    profile_key: str
    status: str

    @property
    def message(self) -> str:
        return (
            f"the Kakao sender profile {self.profile_key} is {self.status} at Kakao; "
            "pick another profile or have the channel restored"
        )


def registered(provider_code: str, key: str) -> KakaoProfile | None:
    return db.session.scalar(
        sa.select(KakaoProfile).where(
            KakaoProfile.provider_code == provider_code, KakaoProfile.profile_key == key
        )
    )


def usable_chain(chain: Sequence[str], explicit_key: str | None) -> list[str] | Refusal:
    """The providers of ``chain`` whose sender profile Kakao still accepts, in order.

    Each provider sends through ``explicit_key`` (the message's ``kakao.profile_id``) or its
    configured channel. A provider whose profile is registered here as blocked, dormant or
    deleted is dropped; a profile that is not registered, or not synced, is not judged (the
    API keeps accepting keys the console has not seen). When every provider is dropped the
    message is refused.
    """
    if not chain:
        return list(chain)
    providers = {
        p.code: p for p in db.session.scalars(sa.select(Provider).where(Provider.code.in_(chain)))
    }
    kept: list[str] = []
    refused: Refusal | None = None
    for code in chain:
        provider = providers.get(code)
        key = explicit_key or (
            configured_key(provider.vendor, provider.settings) if provider else None
        )
        profile = registered(code, key) if key else None
        if profile is not None and not profile.usable:
            refused = refused or Refusal(profile.profile_key, profile.status)
            continue
        kept.append(code)
    return kept if kept or refused is None else refused
