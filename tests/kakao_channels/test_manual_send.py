"""The console's send form: AlimTalk picks a registered sender profile of the chosen provider."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.kakao_channels import services as profiles
from kmsg_console.kakao_channels.models import KakaoProfile
from kmsg_console.message_templates import services, sync
from kmsg_console.operators.models import Role
from kmsg_console.sending.models import MessageLog
from tests.message_templates.conftest import SOLAPI_PF_ID, make_template

SEND_PATH = "/messages/v4/send-many/detail"


@pytest.fixture
def approved(providers, simulator, actor):
    template = make_template(providers["solapi"], actor)
    services.register_template(template, actor=actor)
    simulator.control.approve_template("solapi", template.vendor_code)
    sync.sync_template(template, actor=actor)
    db.session.commit()
    return template.vendor_code


def _form(code, **overrides):
    data = {
        "to": "010-1234-5678",
        "type": "ALIMTALK",
        "subject": "",
        "text": "",
        "sender": "",
        "provider": "solapi-main",
        "template_code": code,
        "variables": "name=김민수\norder=A-1",
        "kakao_profile": SOLAPI_PF_ID,
    }
    data.update(overrides)
    return data


def _errors(response) -> list[str]:
    return re.findall(r'<p class="error"[^>]*>([^<]+)</p>', response.get_data(as_text=True))


def _field(html: str) -> str:
    match = re.search(r'<select id="kakao_profile".*?</select>', html, re.S)
    assert match, html[:1500]
    return match.group(0)


def test_the_profile_select_follows_the_provider(console, providers, approved):
    console.login(Role.OPERATOR)
    html = console.client.get(
        "/send/kakao-profile?provider=solapi-main", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in html and f'value="{SOLAPI_PF_ID}"' in _field(html)
    aligo = console.client.get(
        "/send/kakao-profile?provider=aligo-main", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert SOLAPI_PF_ID not in aligo and 'value="demo-sender-key"' in _field(aligo)
    assert console.client.get("/send/kakao-profile").status_code == 303
    page = console.client.get("/send").get_data(as_text=True)
    assert f'<option value="{approved}">' in page and 'id="kakao-profile-field"' in page


def test_alimtalk_is_previewed_and_sent_through_the_picked_profile(
    app, console, providers, simulator, approved
):
    console.login(Role.OPERATOR)
    preview = console.post("/send/preview", data=_form(approved))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, _errors(preview)
    assert SOLAPI_PF_ID in html and "김민수님, 주문 A-1이 접수되었습니다." in html
    sent = console.post("/send", data=_form(approved))
    assert sent.status_code == 303, _errors(sent)
    [request] = simulator.control.requests("solapi", SEND_PATH)
    kakao = request["body"]["messages"][0]["kakaoOptions"]
    assert kakao["pfId"] == SOLAPI_PF_ID and kakao["templateId"] == approved


def test_a_typed_or_foreign_key_is_refused_on_the_field(console, providers, simulator, approved):
    console.login(Role.OPERATOR)
    typed = console.post("/send/preview", data=_form(approved, kakao_profile="KA01PFTYPED"))
    assert typed.status_code == 422
    assert any("is not a registered Kakao sender profile" in e for e in _errors(typed))
    foreign = console.post("/send/preview", data=_form(approved, kakao_profile="demo-sender-key"))
    assert foreign.status_code == 422  # Aligo's key is not a profile of solapi-main
    no_provider = console.post("/send/preview", data=_form(approved, provider=""))
    assert no_provider.status_code == 422
    assert any("choose the provider too" in e for e in _errors(no_provider))
    missing = console.post("/send/preview", data=_form("", kakao_profile=""))
    assert missing.status_code == 422
    assert any("Choose an approved AlimTalk template" in e for e in _errors(missing))
    assert simulator.control.requests("solapi", SEND_PATH) == []


def test_a_blocked_profile_is_refused_before_solapi(
    app, console, providers, simulator, actor, approved
):
    profile = db.session.scalars(
        sa.select(KakaoProfile).where(KakaoProfile.profile_key == SOLAPI_PF_ID)
    ).one()
    profiles.update_profile(profile, plus_id=None, name=None, status="blocked", actor=actor)
    db.session.commit()
    console.login(Role.OPERATOR)
    # Picked: the select offers it disabled, and a submitted one is refused on the field.
    picked = console.post("/send/preview", data=_form(approved))
    assert picked.status_code == 422 and any("Kakao sends nothing" in e for e in _errors(picked))
    assert f'disabled value="{SOLAPI_PF_ID}"' in _field(picked.get_data(as_text=True))
    # Not picked: the template's profile is the blocked one; the send engine refuses it.
    refused = console.post("/send", data=_form(approved, kakao_profile=""))
    assert refused.status_code == 422
    assert any("blocked, dormant or deleted" in e for e in _errors(refused))
    assert simulator.control.requests("solapi", SEND_PATH) == []
    with app.app_context():
        log = db.session.scalars(sa.select(MessageLog)).one()
        assert (log.status, log.error_code) == ("FAILED", "kakao_profile_unusable")


def test_sms_still_needs_its_text(console, providers, simulator):
    console.login(Role.OPERATOR)
    empty = console.post(
        "/send/preview",
        data={"to": "010-1234-5678", "type": "SMS", "text": "", "provider": "solapi-main"},
    )
    assert empty.status_code == 422 and "This field is required." in _errors(empty)
