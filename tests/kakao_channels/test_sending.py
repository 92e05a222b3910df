"""A blocked or dormant sender profile is refused before any vendor is called."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.kakao_channels import services as profiles
from kmsg_console.kakao_channels.models import KakaoProfile
from kmsg_console.message_templates import services, sync
from kmsg_console.sending.models import MessageAttempt, MessageLog
from tests.message_templates.conftest import SOLAPI_PF_ID, make_template

SEND_PATH = "/messages/v4/send-many/detail"
BODY = {"to": "010-1234-5678", "type": "ALIMTALK", "variables": {"name": "김민수", "order": "A-1"}}


@pytest.fixture
def api_key(ctx):
    key = issue_key("shop", ["send"], actor_label="test").plaintext
    db.session.commit()
    return key


@pytest.fixture
def approved(providers, simulator, actor):
    """An approved SOLAPI template bound to the demo channel."""
    template = make_template(providers["solapi"], actor)
    services.register_template(template, actor=actor)
    simulator.control.approve_template("solapi", template.vendor_code)
    sync.sync_template(template, actor=actor)
    db.session.commit()
    assert template.status == "approved" and template.sender_profile == SOLAPI_PF_ID
    return template


def _set_status(provider_code: str, key: str, status: str, actor) -> None:
    profile = db.session.scalar(
        sa.select(KakaoProfile).where(
            KakaoProfile.provider_code == provider_code, KakaoProfile.profile_key == key
        )
    )
    profiles.update_profile(profile, plus_id=None, name=None, status=status, actor=actor)
    db.session.commit()


def _send(client, api_key, **extra):
    return client.post(
        "/api/v1/messages",
        json={**BODY, **extra},
        headers={"Authorization": f"Bearer {api_key}"},
    )


@pytest.mark.parametrize("status", ["blocked", "dormant"])
def test_a_template_of_an_unusable_profile_is_refused_before_solapi(
    client, providers, simulator, actor, api_key, approved, status
):
    _set_status("solapi-main", SOLAPI_PF_ID, status, actor)
    response = _send(client, api_key, template_code=approved.vendor_code, provider="solapi-main")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "kakao_profile_unusable" and status in error["message"]
    assert error["details"][0]["field"] == "kakao.profile_id"
    assert simulator.control.requests("solapi", SEND_PATH) == []
    log = db.session.scalars(sa.select(MessageLog)).one()
    assert (log.status, log.error_code) == ("FAILED", "kakao_profile_unusable")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageAttempt)) == 0


def test_an_explicit_profile_id_is_checked_and_an_unregistered_one_still_sent(
    client, providers, simulator, actor, api_key, approved
):
    profiles.add_profile(providers["solapi"], "KA01PFBLOCKED", status="blocked", actor=actor)
    db.session.commit()
    refused = _send(
        client, api_key, template_code=approved.vendor_code, kakao={"profile_id": "KA01PFBLOCKED"}
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "kakao_profile_unusable"
    assert simulator.control.requests("solapi", SEND_PATH) == []
    # A key the console has never seen is the vendor's to judge, as before (SOLAPI: 3101).
    sent = _send(
        client, api_key, template_code=approved.vendor_code, kakao={"profile_id": "KA01PFOTHER"}
    )
    assert sent.status_code == 201, sent.get_json()
    [request] = simulator.control.requests("solapi", SEND_PATH)
    assert request["body"]["messages"][0]["kakaoOptions"]["pfId"] == "KA01PFOTHER"


def test_a_usable_profile_sends(client, providers, simulator, actor, api_key, approved):
    profiles.sync_provider(providers["solapi"], actor=actor)
    db.session.commit()
    sent = _send(client, api_key, template_code=approved.vendor_code)
    assert sent.status_code == 201, sent.get_json()
    [message] = simulator.control.messages("solapi")
    assert message["kakaoOptions"]["pfId"] == SOLAPI_PF_ID


def test_sms_is_not_judged_by_profiles(client, providers, simulator, actor, api_key):
    _set_status("solapi-main", SOLAPI_PF_ID, "blocked", actor)
    sent = _send(
        client,
        api_key,
        type="SMS",
        text="배송이 시작되었습니다.",
        variables={},
        provider="solapi-main",
    )
    assert sent.status_code == 201, sent.get_json()
