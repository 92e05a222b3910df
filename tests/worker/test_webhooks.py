"""Signed delivery reports: refused unless authentic, harmless when replayed or unknown."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from kmsg_console.sending.models import MessageEvent, MessageLog
from kmsg_console.worker import settings, webhooks
from kmsg_console.worker.models import DeliveryProviderSetting, DeliveryWebhookReceipt
from tests.worker.conftest import NON_KAKAO, alimtalk, load, provider_id, round_, send

SECRET = "a-shared-secret-of-some-length"


def _configure(app, secret=SECRET, tolerance=300):
    with app.app_context():
        settings.save_settings(
            provider_services.get_by_code("solapi"),
            fallback_enabled=True,
            codes=["3104", "3107"],
            texts=["미사용자"],
            tolerance=tolerance,
            new_secret=secret,
            actor=None,
        )
        db.session.commit()


def _post(client, payload, *, secret=SECRET, timestamp=None, signature=None, provider="solapi"):
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        webhooks.TIMESTAMP_HEADER: timestamp,
        webhooks.SIGNATURE_HEADER: signature or webhooks.sign(secret, timestamp, body),
    }
    return client.post(
        f"/webhooks/delivery/{provider}",
        data=body,
        headers=headers,
        content_type="application/json",
    )


def _event_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(MessageEvent))


def test_authentic_report_is_applied_and_a_replay_is_harmless(app, client, simulator, route):
    route("solapi")
    _configure(app)
    message = send(app)
    vendor_id = load(app, message).provider_message_id
    report = {"reports": [{"messageId": vendor_id, "statusCode": "4000", "statusMessage": "성공"}]}
    body = json.dumps(report).encode()
    timestamp = str(int(time.time()))
    signature = webhooks.sign(SECRET, timestamp, body)
    headers = {webhooks.TIMESTAMP_HEADER: timestamp, webhooks.SIGNATURE_HEADER: signature}

    first = client.post(
        "/webhooks/delivery/solapi", data=body, headers=headers, content_type="application/json"
    )
    assert first.status_code == 202 and first.get_json()["applied"] == 1
    log = load(app, message)
    assert log.status == "DELIVERED" and log.next_check_at is None
    events = _event_count(app)

    again = client.post(
        "/webhooks/delivery/solapi", data=body, headers=headers, content_type="application/json"
    )
    assert again.status_code == 200 and again.get_json() == {"duplicate": True}
    fresh = _post(client, {"messageId": vendor_id, "status": "FAILED", "statusCode": "3059"})
    assert (
        fresh.status_code == 202 and fresh.get_json()["unchanged"] == 1
    )  # a final status stays final
    assert _event_count(app) == events
    assert load(app, message).status == "DELIVERED"


def test_bad_missing_or_stale_signatures_are_refused(app, client, simulator, route):
    route("solapi")
    _configure(app)
    message = send(app)
    report = {"messageId": load(app, message).provider_message_id, "status": "DELIVERED"}
    refused = [
        _post(client, report, secret="another-secret-entirely"),
        _post(client, report, signature="sha256=" + "0" * 64),
        _post(client, report, timestamp=int(time.time()) - 600),
        _post(client, report, timestamp="yesterday"),
        client.post("/webhooks/delivery/solapi", json=report),
        _post(client, report, provider="nobody"),
    ]
    assert [r.status_code for r in refused] == [401] * len(refused)
    assert load(app, message).status == "SENT"
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryWebhookReceipt)) == 0
        )


def test_provider_without_a_secret_refuses_everything(app, client, simulator, route):
    route("solapi")
    message = send(app)
    response = _post(
        client, {"messageId": load(app, message).provider_message_id, "status": "DELIVERED"}
    )
    assert response.status_code == 401
    assert load(app, message).status == "SENT"


def test_unknown_message_id_changes_nothing(app, client, simulator, route):
    route("solapi")
    _configure(app)
    message = send(app)
    before = _event_count(app)
    response = _post(client, {"messageId": "M4V-NOT-OURS", "status": "DELIVERED"})
    assert response.status_code == 202 and response.get_json()["unknown"] == 1
    assert _event_count(app) == before and load(app, message).status == "SENT"
    assert _post(client, {"nothing": "useful"}).get_json()["invalid"] == 1
    assert _post(client, "not a report").status_code == 400


def test_reported_non_kakao_failure_triggers_the_fallback_once(
    app, client, simulator, route, clock
):
    route("solapi")
    _configure(app)
    message = alimtalk(app, to=NON_KAKAO)
    report = {
        "messageId": load(app, message).provider_message_id,
        "statusCode": "3104",
        "statusMessage": "카카오톡 미사용자",
    }
    assert _post(client, report).status_code == 202
    assert (
        _post(client, report, timestamp=int(time.time()) + 1).status_code == 202
    )  # a differently signed copy
    assert load(app, message).fallback_state == "due"
    round_(app)
    round_(app)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(MessageLog)
                .where(MessageLog.fallback_of_id == load(app, message).id)
            )
            == 1
        )


def test_admin_sets_rules_and_a_generated_secret_is_shown_once_and_stored_encrypted(
    app, console, simulator, route
):
    route("solapi")
    console.login(Role.ADMIN)
    pid = provider_id(app, "solapi")
    page = console.client.get(f"/providers/{pid}/delivery")
    assert page.status_code == 200 and "3104, 3107" in page.get_data(as_text=True)
    saved = console.post(
        f"/providers/{pid}/delivery",
        data={
            "fallback_enabled": "y",
            "fallback_codes": "3104, 9999",
            "fallback_texts": "미사용자\n카카오&미사용",
            "tolerance": "120",
            "generate_secret": "y",
        },
    )
    assert saved.status_code == 200
    html = saved.get_data(as_text=True)
    with app.app_context():
        provider = provider_services.get_by_code("solapi")
        secret = settings.webhook_secret(provider)
        row = db.session.get(DeliveryProviderSetting, pid)
        assert row.fallback_codes == ["3104", "9999"] and row.webhook_tolerance_seconds == 120
        assert secret and secret in html and secret not in row.webhook_secret_enc
        audit = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "provider.delivery_update")
        ).one()
        assert secret not in json.dumps(audit.details)
    assert secret not in console.client.get(f"/providers/{pid}/delivery").get_data(as_text=True)
    bad = console.post(
        f"/providers/{pid}/delivery", data={"fallback_codes": "x" * 41, "tolerance": "5"}
    )
    assert bad.status_code == 422 and "x" * 41 in bad.get_data(as_text=True)


def test_delivery_settings_are_admin_only(app, console, simulator, route):
    route("solapi")
    console.login(Role.OPERATOR)
    pid = provider_id(app, "solapi")
    assert console.client.get(f"/providers/{pid}/delivery").status_code == 403
    assert console.post(f"/providers/{pid}/delivery", data={"tolerance": "300"}).status_code == 403


def _post_raw(client, body: bytes):
    timestamp = str(int(time.time()))
    return client.post(
        "/webhooks/delivery/solapi",
        data=body,
        headers={
            webhooks.TIMESTAMP_HEADER: timestamp,
            webhooks.SIGNATURE_HEADER: webhooks.sign(SECRET, timestamp, body),
        },
        content_type="application/json",
    )


def test_deeply_nested_json_is_a_400_json_error(app, client, simulator, route):
    route("solapi")
    _configure(app)
    depth = 100_000
    response = _post_raw(client, b"[" * depth + b"]" * depth)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_report"
    assert "nested" in response.get_json()["error"]["message"]


def test_a_report_nested_past_the_limit_is_refused_whole(app, client, simulator, route):
    route("solapi")
    _configure(app)
    message = send(app)
    vendor_id = load(app, message).provider_message_id
    nested: object = "deep"
    for _ in range(40):  # parses fine, but no delivery report is shaped like this
        nested = {"x": nested}
    report = {"messageId": vendor_id, "status": "DELIVERED", "extra": nested}
    response = _post_raw(client, json.dumps({"reports": [report]}).encode())
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_report"
    assert load(app, message).status == "SENT"
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryWebhookReceipt)) == 0
        )


def test_an_oversized_body_is_a_json_error(app, client, simulator, route):
    route("solapi")
    _configure(app)
    padding = "x" * app.config["MAX_CONTENT_LENGTH"]
    response = _post_raw(client, json.dumps({"reports": [], "padding": padding}).encode())
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
