"""Operator alerts: each threshold crossing is announced once, reaches a webhook receiver,
shows on the dashboard; the thresholds are admin-only and audited."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from kmsg_console.alerts import services as alerts
from kmsg_console.alerts.models import AlertState
from kmsg_console.audit.models import AuditEvent
from kmsg_console.events.types import ALERT_TYPES
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.settings import services as settings
from kmsg_console.worker import jobs
from kmsg_console.worker.models import WorkerJob
from tests.events.conftest import add_endpoint, outbox, run_deliveries, verify

#: 2026-12-07 23:50 in Korea: ten minutes before the KST day ends.
LATE_EVENING = datetime(2026, 12, 7, 14, 50, tzinfo=UTC)


def _configure(app, **values) -> None:
    with app.app_context():
        config = alerts.current_settings()
        alerts.save_settings(
            alerts.AlertSettings(**{**config.__dict__, **values}), actor=None, actor_label="test"
        )
        db.session.commit()


def _checks(app, now: datetime) -> list[str]:
    with app.app_context():
        return alerts.run_checks(now)["fired"]


def _logs(add_log, n: int, status: str, at: datetime) -> None:
    for _ in range(n):
        add_log(
            status=status, created_at=at, error_code="NETWORK_ERROR" if status == "FAILED" else None
        )


def test_failure_rate_alerts_once_and_resolves_to_a_receiver(app, add_log, receiver):
    _endpoint, secret = add_endpoint(app, receiver.url, types=ALERT_TYPES)
    _configure(app, failure_rate_percent=50, failure_window_minutes=15, failure_min_messages=5)
    now = utcnow()
    _logs(add_log, 3, "FAILED", now - timedelta(minutes=2))
    _logs(add_log, 1, "DELIVERED", now - timedelta(minutes=2))
    assert _checks(app, now) == []  # 3 of 4: below the minimum volume
    _logs(add_log, 1, "SENT", now - timedelta(minutes=1))
    _logs(add_log, 4, "FAILED", now - timedelta(minutes=40))  # outside the window
    assert _checks(app, now) == ["alert.failure_rate"]  # 3 of 5 = 60 %
    assert _checks(app, now + timedelta(minutes=1)) == []  # still high: nothing new
    _logs(add_log, 2, "DELIVERED", now)
    assert _checks(app, now + timedelta(minutes=2)) == ["alert.failure_rate_resolved"]
    assert _checks(app, now + timedelta(minutes=3)) == []

    written = outbox(app)
    assert [e.type for e in written] == ["alert.failure_rate", "alert.failure_rate_resolved"]
    started = written[0].data
    assert started["failed"] == 3 and started["total"] == 5 and started["rate_percent"] == 60.0
    assert started["threshold_percent"] == 50 and started["window_minutes"] == 15
    assert run_deliveries(app)["delivered"] == 2
    assert [r.event["type"] for r in receiver.requests] == [e.type for e in written]
    assert all(verify(secret, r) for r in receiver.requests)


def test_volume_caps_warn_at_70_and_100_once_per_kst_day_and_month(app, add_log):
    _configure(app, daily_volume_cap=10, monthly_volume_cap=24)
    evening = LATE_EVENING
    _logs(add_log, 6, "DELIVERED", evening - timedelta(minutes=5))
    _logs(add_log, 5, "FAILED", evening - timedelta(minutes=5))  # failures are not sent
    assert _checks(app, evening) == []  # 6 of 10
    _logs(add_log, 1, "SENT", evening - timedelta(minutes=4))
    assert _checks(app, evening) == ["alert.volume_cap:day:70"]
    assert _checks(app, evening + timedelta(minutes=1)) == []
    _logs(add_log, 3, "PENDING", evening)
    assert _checks(app, evening + timedelta(minutes=2)) == ["alert.volume_cap:day:100"]
    assert _checks(app, evening + timedelta(minutes=3)) == []

    # 00:10 KST the next day: a new day starts at 0 %; the month goes on (10 of 24 so far).
    next_day = evening + timedelta(minutes=20)
    assert _checks(app, next_day) == []
    _logs(add_log, 7, "DELIVERED", next_day - timedelta(minutes=5))
    assert _checks(app, next_day) == ["alert.volume_cap:day:70", "alert.volume_cap:month:70"]
    _logs(add_log, 10, "DELIVERED", next_day)  # 17 today: past 100 % of the day at once
    assert _checks(app, next_day + timedelta(minutes=1)) == [
        "alert.volume_cap:day:100",
        "alert.volume_cap:month:100",
    ]
    assert _checks(app, next_day + timedelta(hours=1)) == []

    events = outbox(app, "alert.volume_cap")
    assert Counter((e.data["period"], e.data["period_key"], e.data["percent"]) for e in events) == {
        ("day", "2026-12-07", 70): 1,
        ("day", "2026-12-07", 100): 1,
        ("day", "2026-12-08", 70): 1,
        ("day", "2026-12-08", 100): 1,
        ("month", "2026-12", 70): 1,
        ("month", "2026-12", 100): 1,
    }
    first = events[0].data
    assert first["sent"] == 7 and first["cap"] == 10 and first["blocks_sending"] is False


def test_balance_low_alerts_once_until_it_recovers(app, simulator, route, receiver):
    _endpoint, secret = add_endpoint(app, receiver.url, types=["provider.balance_low"])
    route("solapi")
    with app.test_request_context():
        provider = provider_services.get_by_code("solapi")
        alerts.set_balance_threshold(provider, 10_000, actor=None, actor_label="test")
        db.session.commit()
        secrets = list(provider_services.decrypted_config(provider).values())

    def check() -> list[str]:
        with app.app_context():
            return alerts.run_balance_checks()["fired"]

    simulator.control.set_balance("solapi", 50_000)
    assert check() == []
    simulator.control.set_balance("solapi", 4_500)
    assert check() == ["provider.balance_low:solapi"]
    assert check() == []
    simulator.control.set_balance("solapi", 20_000)  # recovered: quiet again
    assert check() == []
    simulator.control.set_balance("solapi", 900)
    assert check() == ["provider.balance_low:solapi"]

    events = outbox(app, "provider.balance_low")
    assert [e.data["balance"] for e in events] == ["4500", "900"]
    assert events[0].data == {
        "provider": "solapi",
        "vendor": "solapi",
        "balance": "4500",
        "currency": "KRW",
        "threshold": 10_000,
    }
    assert run_deliveries(app)["delivered"] == 2
    for request in receiver.requests:
        assert verify(secret, request)
        for secret_text in secrets:
            if isinstance(secret_text, str) and len(secret_text) > 6:
                assert secret_text.encode() not in request.body
    with app.app_context():
        audit = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "provider.update")
        )
        assert audit.details["after"] == {"balance_alert_below": 10_000}


def _worker_ran(app, at: datetime) -> None:
    with app.app_context():
        jobs.ensure_rows()
        db.session.execute(
            sa.update(WorkerJob)
            .where(WorkerJob.name == "delivery_tracking")
            .values(last_finished_at=at)
        )
        db.session.commit()


def test_worker_stopped_is_seen_by_dashboard_views_and_recovered_by_the_worker(app, console):
    console.login(Role.VIEWER)
    assert console.client.get("/").status_code == 200  # never ran: no event
    _worker_ran(app, utcnow() - timedelta(minutes=10))
    for _ in range(3):
        page = console.client.get("/").get_data(as_text=True)
        assert 'data-alert="worker_stopped"' in page and 'href="#worker-health"' in page
    assert [e.type for e in outbox(app)] == ["worker.stopped"]
    stopped = outbox(app)[0].data
    assert stopped["stale_after_seconds"] == 120 and stopped["last_run"]

    assert jobs.run_once(app, names=("delivery_tracking", "operator_alerts")) == {
        "delivery_tracking": "ok",
        "operator_alerts": "ok",
    }
    assert [e.type for e in outbox(app)] == ["worker.stopped", "worker.recovered"]
    assert 'data-alert="worker_stopped"' not in console.client.get("/").get_data(as_text=True)


def test_dashboard_panel_lists_alerts_with_their_fixes_in_english_and_korean(
    app, console, add_log, simulator, route
):
    route("solapi")
    with app.app_context():
        provider = provider_services.get_by_code("solapi")
        provider_id = provider.id
        alerts.set_balance_threshold(provider, 10_000, actor=None, actor_label="test")
        db.session.commit()
    simulator.control.set_balance("solapi", 4_500)
    with app.app_context():
        alerts.run_balance_checks()
    _configure(app, failure_rate_percent=20, failure_min_messages=3, daily_volume_cap=3)
    now = utcnow()
    _logs(add_log, 3, "FAILED", now - timedelta(minutes=1))
    _logs(add_log, 3, "DELIVERED", now - timedelta(minutes=1))
    _checks(app, now)

    console.login(Role.ADMIN)
    page = console.client.get("/").get_data(as_text=True)
    panel = page[page.index('id="alerts"') : page.index("</section>", page.index('id="alerts"'))]
    assert 'data-alert="balance_low" data-provider="solapi"' in panel
    assert f"/providers/{provider_id}/edit" in panel and "below 10,000" in panel
    assert 'data-alert="failure_rate"' in panel and "status=FAILED" in panel
    assert "50.0% of 6 messages failed" in panel
    assert 'data-alert="cap"' in panel and "Daily cap 100%" in panel and "/settings/alerts" in panel

    korean = console.client.get("/", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "잔액 부족" in korean and "일일 한도 100%" in korean and "실패율" in korean


def test_alert_settings_are_admin_only_validated_and_audited(app, console):
    console.login(Role.OPERATOR)
    assert console.client.get("/settings/alerts").status_code == 403
    assert console.post("/settings/alerts", data={"failure_window_minutes": 15}).status_code == 403
    console.post("/logout")

    console.login(Role.ADMIN)
    assert console.client.get("/settings/alerts").status_code == 200
    bad = console.post(
        "/settings/alerts",
        data={
            "failure_rate_percent": "150",
            "failure_window_minutes": "15",
            "failure_min_messages": "20",
        },
    )
    assert bad.status_code == 422 and "Enter 1 to 100." in bad.get_data(as_text=True)
    saved = console.post(
        "/settings/alerts",
        data={
            "failure_rate_percent": "25",
            "failure_window_minutes": "30",
            "failure_min_messages": "20",
            "daily_volume_cap": "1000",
            "monthly_volume_cap": "",
        },
    )
    assert saved.status_code == 303
    with app.app_context():
        assert settings.get(alerts.FAILURE_PERCENT) == 25
        assert alerts.current_settings().daily_volume_cap == 1000
        assert alerts.current_settings().monthly_volume_cap is None
        changed = {
            e.target_id: e.details["after"][e.target_id]
            for e in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "setting.update")
            )
        }
    assert changed == {
        "alerts.failure_rate_percent": 25,
        "alerts.failure_window_minutes": 30,
        "alerts.daily_volume_cap": 1000,
    }


def test_balance_threshold_from_the_command_line(app, route, simulator):
    route("solapi")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["alerts", "balance-threshold", "solapi", "5000"])
    assert result.exit_code == 0 and "alert below 5000" in result.output
    result = runner.invoke(args=["alerts", "balance-threshold", "solapi", "--off"])
    assert result.exit_code == 0 and "no balance alert" in result.output
    with app.app_context():
        assert provider_services.get_by_code("solapi").balance_alert_below is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AlertState)) == 0


def test_alert_payloads_hold_no_numbers(app, add_log):
    _configure(app, failure_rate_percent=10, failure_min_messages=1, daily_volume_cap=1)
    add_log(status="FAILED", created_at=utcnow(), phone="01098765432")
    add_log(status="SENT", created_at=utcnow(), phone="01098765432")
    assert sorted(_checks(app, utcnow())) == [
        "alert.failure_rate",
        "alert.volume_cap:day:100",
        "alert.volume_cap:day:70",
    ]
    for event in outbox(app):
        text = json.dumps(event.data)
        assert "01098765432" not in text and "9876" not in text


def test_a_process_that_read_the_state_before_another_moved_it_announces_nothing(
    app, add_log, monkeypatch
):
    """Two workers (or a worker and a dashboard view) check at once: the conditional UPDATE
    lets only the first announce the crossing."""
    _configure(app, failure_rate_percent=50, failure_min_messages=2)
    now = utcnow()
    _logs(add_log, 2, "FAILED", now - timedelta(minutes=1))
    assert _checks(app, now) == ["alert.failure_rate"]
    # The second process read the row while it was still quiet.
    monkeypatch.setattr(alerts, "_state", lambda key: AlertState(key=key, level=0, period=None))
    assert _checks(app, now) == []
    assert [e.type for e in outbox(app)] == ["alert.failure_rate"]
    with app.app_context():
        assert db.session.get(AlertState, "failure_rate").level == 1


def test_the_provider_form_sets_the_balance_alert_amount_audited(app, console, simulator):
    console.login(Role.ADMIN)
    form = {
        "code": "solapi-main",
        "name": "SOLAPI main",
        "enabled": "y",
        "balance_alert_below": "20000",
        "cfg_api_key": "demo-api-key",
        "cfg_api_secret": "demo-api-secret",
        "cfg_default_from": "0212345678",
        "cfg_base_url": simulator.url("solapi"),
    }
    assert console.post("/providers/new?vendor=solapi", data=form).status_code == 302
    with app.app_context():
        provider = provider_services.get_by_code("solapi-main")
        provider_id = provider.id
        assert provider.balance_alert_below == 20_000
    page = console.client.get(f"/providers/{provider_id}/edit").get_data(as_text=True)
    assert 'name="balance_alert_below"' in page and 'value="20000"' in page
    bad = console.post(f"/providers/{provider_id}/edit", data={**form, "balance_alert_below": "-5"})
    assert bad.status_code == 422
    assert (
        console.post(
            f"/providers/{provider_id}/edit", data={**form, "balance_alert_below": ""}
        ).status_code
        == 302
    )
    with app.app_context():
        assert provider_services.get_by_code("solapi-main").balance_alert_below is None
        updated = db.session.scalar(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "provider.update")
            .order_by(AuditEvent.id.desc())
        )
        assert updated.details["before"]["balance_alert_below"] == 20_000
        assert updated.details["after"]["balance_alert_below"] is None
