"""발신번호 사전등록제 at send time: the API's 422, the console's field error, the chain narrowed.

Every refusal is checked where a vendor would see it: the sandbox's outbox or the SOLAPI
simulator's recorded requests stay empty.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from kmsg_console.sender_numbers import services
from kmsg_console.sender_numbers.models import SenderNumberStatus
from kmsg_console.sending.models import MessageLog
from tests.sender_numbers.conftest import add_sandbox, delivered, register

SMS = {"to": "010-2345-6789", "text": "[shop] 주문이 접수되었습니다."}


def _logs(app) -> list[MessageLog]:
    with app.app_context():
        logs = list(db.session.scalars(sa.select(MessageLog).order_by(MessageLog.id)))
        for log in logs:
            log.events  # noqa: B018
        db.session.expunge_all()
        return logs


def test_the_sandbox_default_sender_sends(app, send_api):
    response = send_api(SMS)
    assert response.status_code == 201, response.get_json()
    [delivery] = delivered("sandbox")
    assert delivery.to == "01023456789"


def test_an_unregistered_from_is_refused_with_422_naming_the_number(app, send_api):
    response = send_api({**SMS, "from": "02-9999-8888"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "sender_not_registered"
    assert "02-9999-8888" in error["message"] and "sandbox" in error["message"]
    [issue] = error["details"]
    assert issue["field"] == "from" and issue["code"] == "sender_not_registered"
    assert issue["params"] == {"number": "02-9999-8888", "providers": ["sandbox"]}
    assert delivered() == []
    [log] = _logs(app)
    assert log.status == "FAILED" and log.error_code == "sender_not_registered"
    assert [event.kind for event in log.events] == ["refused"]


@pytest.mark.parametrize("status", ["pending", "rejected", "blocked"])
def test_a_number_not_verified_is_refused(app, send_api, status):
    register(app, "02-9999-8888", ["sandbox"], verified=False)
    if status != "pending":
        with app.test_request_context():
            sender = services.find("0299998888")
            services.change_status(sender, SenderNumberStatus(status), actor=None)
            db.session.commit()
    response = send_api({**SMS, "from": "029999-8888"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "sender_not_registered"
    assert delivered() == []


def test_a_verified_number_of_the_provider_sends(app, send_api):
    register(app, "02-9999-8888", ["sandbox"])
    response = send_api({**SMS, "from": "02-9999-8888"})
    assert response.status_code == 201
    assert len(delivered("sandbox")) == 1


def test_a_number_verified_for_another_provider_only_is_refused(app, send_api):
    add_sandbox(app, "sandbox-b")
    register(app, "02-9999-8888", ["sandbox-b"])
    response = send_api({**SMS, "from": "02-9999-8888"})
    assert response.status_code == 422
    assert delivered() == []


def test_the_failover_chain_keeps_only_providers_the_sender_is_registered_with(app, send_api):
    add_sandbox(app, "sandbox-b", sms_route=["sandbox", "sandbox-b"])
    register(app, "02-9999-8888", ["sandbox-b"])
    response = send_api({**SMS, "from": "02-9999-8888"})
    assert response.status_code == 201
    body = response.get_json()
    assert [a["provider"] for a in body["attempts"]] == ["sandbox-b"]
    assert delivered("sandbox") == [] and len(delivered("sandbox-b")) == 1


def test_without_from_each_provider_is_checked_with_its_own_default_sender(app, send_api):
    # sandbox-b has the sandbox's built-in default sender too, but it is registered only
    # for "sandbox": a failover to sandbox-b would use a number it has not registered.
    add_sandbox(app, "sandbox-b", sms_route=["sandbox-b", "sandbox"])
    response = send_api(SMS)
    assert response.status_code == 201
    assert [a["provider"] for a in response.get_json()["attempts"]] == ["sandbox"]
    assert delivered("sandbox-b") == []


def test_an_explicit_provider_without_the_sender_is_refused(app, send_api):
    add_sandbox(app, "sandbox-b")
    response = send_api({**SMS, "provider": "sandbox-b"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "sender_not_registered" and "02-1234-5678" in error["message"]
    assert delivered() == []


def test_alimtalk_is_not_checked_here(app, send_api):
    # No template: the refusal is the template's, not the sender rule's.
    response = send_api({"to": "01023456789", "type": "ALIMTALK", "template_code": "NOPE"})
    assert response.get_json()["error"]["code"] == "unknown_template"


def test_openapi_documents_the_refusal(client):
    document = client.get("/api/v1/openapi.json").get_json()
    responses = document["paths"]["/messages"]["post"]["responses"]
    assert "sender_not_registered" in responses["422"]["description"]


# -- through SOLAPI (real HTTP to the simulator) ---------------------------------------------


@pytest.fixture
def solapi(app, simulator, sandbox):
    with app.test_request_context():
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi-main",
            name="SOLAPI",
            values={
                "api_key": "demo-api-key",
                "api_secret": "demo-api-secret",
                "default_from": "0212345678",
                "base_url": simulator.url("solapi"),
            },
            enabled=True,
            actor=None,
        )
        provider_services.save_routes({"SMS": ["solapi-main"]}, actor=None)
        db.session.commit()
    simulator.control.clear_requests()
    return simulator


def test_solapi_sends_from_its_registered_default(app, send_api, solapi):
    response = send_api(SMS)
    assert response.status_code == 201, response.get_json()
    [request] = solapi.control.requests("solapi", path="/messages/v4/send-many/detail")
    assert request["body"]["messages"][0]["from"] == "0212345678"


def test_solapi_never_sees_an_unregistered_sender(app, send_api, solapi):
    response = send_api({**SMS, "from": "0299998888"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "sender_not_registered"
    assert solapi.control.requests("solapi") == []


# -- the console's send form -----------------------------------------------------------------


def _form(**overrides):
    data = {"to": "010-2345-6789", "type": "", "subject": "", "text": SMS["text"], "sender": ""}
    data["provider"] = ""
    data.update(overrides)
    return data


def test_the_console_form_shows_the_refusal_under_the_sender_field(app, console, sandbox):
    console.login(Role.OPERATOR)
    response = console.post("/send", data=_form(sender="02-9999-8888"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = re.search(r'<div class="field has-error">\s*<label for="sender".*?</div>', html, re.S)
    assert field is not None, html
    assert "02-9999-8888 is not a verified sender number of sandbox" in field.group(0)
    assert delivered() == []


def test_the_console_form_sends_from_a_verified_number(app, console, sandbox):
    register(app, "02-9999-8888", ["sandbox"])
    console.login(Role.OPERATOR)
    response = console.post("/send", data=_form(sender="02-9999-8888"))
    assert response.status_code == 303
    assert len(delivered("sandbox")) == 1


def test_the_console_refusal_reads_in_korean(app, console, sandbox):
    console.login(Role.OPERATOR)
    console.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ko"
    response = console.post("/send", data=_form(sender="02-9999-8888"))
    assert response.status_code == 422
    assert "발신번호" in response.get_data(as_text=True)


# -- OTP codes go through the same rule ------------------------------------------------------


def test_an_otp_from_an_unregistered_purpose_sender_is_not_sent(app, client, sandbox):
    from kmsg_console.api_keys.services import issue_key
    from kmsg_console.otp import services as otp_services

    with app.app_context():
        otp_services.ensure_default_purposes()
        otp_services.get_purpose("login").sender_number = "0299998888"
        key = issue_key("otp", ["otp"], actor_label="test").plaintext
        db.session.commit()
    response = client.post(
        "/api/v1/verifications",
        json={"phone": "010-2345-6789", "purpose": "login"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 502
    assert "02-9999-8888 is not a verified sender number" in response.get_json()["error"]["message"]
    assert delivered() == []
    register(app, "02-9999-8888", ["sandbox"])
    response = client.post(  # another number: the first one waits out its resend cooldown
        "/api/v1/verifications",
        json={"phone": "010-3456-7890", "purpose": "login"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201, response.get_json()
    assert len(delivered("sandbox")) == 1


def test_the_console_preview_already_refuses_and_shows_the_narrowed_route(app, console, sandbox):
    console.login(Role.OPERATOR)
    response = console.post("/send/preview", data=_form(sender="02-9999-8888"))
    assert response.status_code == 422
    assert "02-9999-8888 is not a verified sender number of sandbox" in response.get_data(
        as_text=True
    )
    add_sandbox(app, "sandbox-b", sms_route=["sandbox", "sandbox-b"])
    register(app, "02-9999-8888", ["sandbox-b"])
    response = console.post("/send/preview", data=_form(sender="02-9999-8888"))
    assert response.status_code == 200
    route = re.findall(r'data-provider="([^"]+)"', response.get_data(as_text=True))
    assert route == ["sandbox-b"]
    assert delivered() == []
