"""Kakao sender profiles: sync from the vendor simulators, hand entry, the form checks."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import gettext

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.kakao_channels import services
from kmsg_console.kakao_channels.models import KakaoProfile, ProfileSource, ProfileStatus
from kmsg_console.messaging.provider import KakaoChannel
from tests.message_templates.conftest import ALIGO_SENDER_KEY, SOLAPI_PF_ID


def _profiles(code: str) -> dict[str, KakaoProfile]:
    return {p.profile_key: p for p in services.list_profiles(code)}


def test_saving_a_provider_registers_the_channel_its_settings_name(providers):
    solapi = _profiles("solapi-main")[SOLAPI_PF_ID]
    aligo = _profiles("aligo-main")[ALIGO_SENDER_KEY]
    for profile in (solapi, aligo):
        assert profile.status == ProfileStatus.UNKNOWN.value
        assert profile.source == ProfileSource.SETTINGS.value
        assert profile.last_synced_at is None
    assert services.list_profiles("iwinv-main") == []
    assert services.list_profiles("sandbox") == []


def test_sync_from_solapi_imports_its_channels_as_active(providers, simulator, actor):
    # A profile typed by hand that SOLAPI does not list.
    services.add_profile(providers["solapi"], "KA01PFNOTLINKED", actor=actor)
    summary = services.sync_provider(providers["solapi"], actor=actor)
    db.session.commit()
    assert (summary.added, summary.updated, summary.missing) == (0, 1, ["KA01PFNOTLINKED"])
    profiles = _profiles("solapi-main")
    demo = profiles[SOLAPI_PF_ID]
    assert demo.status == "active" and demo.plus_id == "@kmsgdemo"
    assert demo.last_synced_at is not None and demo.vendor_status is None
    assert profiles["KA01PFNOTLINKED"].status == "not_found"
    # It went through SOLAPI's channel API, signed like every SOLAPI call.
    request = simulator.control.last_request("solapi", "/kakao/v2/channels")
    assert request["method"] == "GET" and request["response_status"] == 200
    assert request["headers"]["authorization"].startswith("HMAC-SHA256 apiKey=demo-api-key")
    # A second sync finds nothing new.
    again = services.sync_provider(providers["solapi"], actor=actor)
    assert (again.added, again.updated, again.unchanged, again.missing) == (0, 0, 1, [])
    audit = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "kakao_profile.sync")
    ).all()
    assert audit and audit[0].target_id == "solapi-main"


def test_sync_from_aligo_reads_kakaos_status_codes(providers, simulator, actor):
    channel = simulator.state.channels["aligo_kakao"]["@kmsgdemo"]
    services.sync_provider(providers["aligo"], actor=actor)
    profile = _profiles("aligo-main")[ALIGO_SENDER_KEY]
    assert (profile.status, profile.vendor_status, profile.plus_id, profile.name) == (
        "active",
        "A/A",
        "@kmsgdemo",
        "KMSG 데모",
    )
    channel["profileStat"] = "C"  # Kakao blocked the channel
    services.sync_provider(providers["aligo"], actor=actor)
    db.session.commit()
    assert profile.status == "blocked" and profile.vendor_status == "A/C"
    assert not profile.usable


def test_a_new_channel_at_the_vendor_is_imported(providers, simulator, actor):
    simulator.state.channels["aligo_kakao"]["@second"] = {
        **simulator.state.channels["aligo_kakao"]["@kmsgdemo"],
        "senderKey": "second-sender-key",
        "uuid": "@second",
        "name": "두번째 채널",
    }
    summary = services.sync_provider(providers["aligo"], actor=actor)
    db.session.commit()
    assert summary.added == 1
    added = _profiles("aligo-main")["second-sender-key"]
    assert added.source == "sync" and added.status == "active" and added.plus_id == "@second"


def test_a_vendor_without_a_channel_api_is_entered_by_hand(providers, actor):
    assert not services.can_sync(providers["iwinv"]) and not services.can_sync(providers["sandbox"])
    with pytest.raises(services.ProfileError) as refused:
        services.sync_provider(providers["iwinv"], actor=actor)
    assert refused.value.field == "provider"
    profile = services.add_profile(
        providers["iwinv"], " iwinv-channel ", plus_id="myshop", name="My shop", actor=actor
    )
    assert (profile.profile_key, profile.plus_id, profile.status) == (
        "iwinv-channel",
        "@myshop",
        "unknown",
    )
    with pytest.raises(services.ProfileError, match="already registered"):
        services.add_profile(providers["iwinv"], "iwinv-channel", actor=actor)


def test_a_failed_sync_changes_nothing(providers, simulator, actor):
    simulator.control.inject("solapi", "status_5xx", status=500, count=None)
    with pytest.raises(services.SyncError):
        services.sync_provider(providers["solapi"], actor=actor)
    assert _profiles("solapi-main")[SOLAPI_PF_ID].status == "unknown"


def test_form_problem_refuses_unregistered_and_unusable_profiles(providers, actor):
    solapi = providers["solapi"]
    assert services.form_problem(solapi, SOLAPI_PF_ID) is None
    unknown = services.form_problem(solapi, "KA01PFTYPED")
    assert unknown is not None and "not a registered" in unknown[0]
    profile = _profiles("solapi-main")[SOLAPI_PF_ID]
    services.update_profile(profile, plus_id=None, name=None, status="dormant", actor=actor)
    dormant = services.form_problem(solapi, SOLAPI_PF_ID)
    # The status is named by its label, in the operator's language.
    assert dormant is not None and dormant[1]["status"] == gettext("Dormant").lower()


@pytest.mark.parametrize(
    ("vendor", "codes", "expected"),
    [
        ("solapi", None, ProfileStatus.ACTIVE),
        ("aligo", "A/A", ProfileStatus.ACTIVE),
        ("aligo", "A/C", ProfileStatus.BLOCKED),
        ("aligo", "D/A", ProfileStatus.DELETED),
        ("aligo", "A/Z", ProfileStatus.UNKNOWN),
        ("aligo", None, ProfileStatus.UNKNOWN),
    ],
)
def test_vendor_status_codes(vendor, codes, expected):
    assert services.status_from_vendor(vendor, KakaoChannel("k", vendor_status=codes)) is expected
