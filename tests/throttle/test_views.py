"""The ``/throttle-policies`` pages: roles, validation, CSRF, audit and htmx fragments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.throttle.models import ThrottleListEntry, ThrottlePolicy, ThrottleWindow
from tests.throttle.conftest import decide

PHONE = "01012345678"
UNREACHABLE_PREFIX = "This prefix can match no number"


def policy_form(**overrides) -> dict:
    form = {
        "name": "OTP per phone",
        "description": "",
        "mode": "enforce",
        "key_kind": "phone",
        "actions": ["otp_start"],
        "enabled": "y",
        "purpose": "",
        "prefix": "",
        "windows-0-max_requests": "3",
        "windows-0-amount": "10",
        "windows-0-unit": "60",
        "windows-1-max_requests": "5",
        "windows-1-amount": "1",
        "windows-1-unit": "3600",
        "windows-2-max_requests": "",
        "windows-2-amount": "",
        "windows-2-unit": "60",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def audit(app, prefix: str = "throttle.", *, by_operators: bool = False) -> list[AuditEvent]:
    with app.app_context():
        query = (
            sa.select(AuditEvent)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id)
        )
        if by_operators:  # leave out what fixtures did as "system"
            query = query.where(AuditEvent.actor_id.is_not(None))
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def only_policy(app) -> ThrottlePolicy:
    with app.app_context():
        policy = db.session.scalars(sa.select(ThrottlePolicy)).one()
        _ = policy.windows
        db.session.expunge_all()
        return policy


@pytest.fixture
def policy(app, make_policy) -> int:
    return make_policy("per phone", windows=[(3, 600), (5, 3600)])


# --- roles --------------------------------------------------------------------------------


def test_viewer_cannot_open_throttle_pages(console, policy):
    console.login(Role.VIEWER)
    for path in [
        "/throttle-policies",
        f"/throttle-policies/{policy}",
        "/throttle-policies/test",
        "/throttle-policies/lists",
    ]:
        assert console.client.get(path).status_code == 403, path
    assert console.post("/throttle-policies/test", data={"action": "otp_start"}).status_code == 403


def test_operator_reads_but_cannot_change(app, console, policy):
    console.login(Role.OPERATOR)
    page = console.client.get("/throttle-policies")
    assert page.status_code == 200 and "per phone" in page.get_data(as_text=True)
    assert "/throttle-policies/new" not in page.get_data(as_text=True)  # no edit affordances
    for path in [
        f"/throttle-policies/{policy}",
        f"/throttle-policies/{policy}/events",
        f"/throttle-policies/{policy}/counters",
        "/throttle-policies/lists",
        "/throttle-policies/test",
    ]:
        assert console.client.get(path).status_code == 200, path
    with app.app_context():
        window_id = db.session.scalars(sa.select(ThrottleWindow.id)).first()
    for path, data in [
        ("/throttle-policies/new", policy_form()),
        (f"/throttle-policies/{policy}/edit", policy_form()),
        (f"/throttle-policies/{policy}/toggle", {}),
        (f"/throttle-policies/{policy}/windows/{window_id}/delete", {}),
        ("/throttle-policies/lists", {"list_kind": "block", "match": "number", "value": PHONE}),
    ]:
        assert console.post(path, data=data).status_code == 403, path
    assert (
        console.post(
            "/throttle-policies/test", data={"action": "otp_start", "phone": PHONE}
        ).status_code
        == 200
    )
    assert only_policy(app).enabled
    assert [e.action for e in audit(app)] == ["throttle.create"]  # the fixture's, nothing since


def test_navigation_links_to_the_policies(console):
    console.login(Role.OPERATOR)
    assert 'href="/throttle-policies"' in console.client.get("/").get_data(as_text=True)


# --- create and edit ------------------------------------------------------------------------


def test_admin_creates_a_policy_and_it_is_audited(app, console):
    console.login(Role.ADMIN)
    response = console.post(
        "/throttle-policies/new", data=policy_form(actions=["otp_start", "api_send"])
    )
    assert response.status_code == 302
    policy = only_policy(app)
    assert response.headers["Location"] == f"/throttle-policies/{policy.id}"
    assert [(w.max_requests, w.window_seconds) for w in policy.windows] == [(3, 600), (5, 3600)]
    assert policy.actions == ["api_send", "otp_start"]
    (event,) = audit(app)
    assert (event.action, event.target_type, event.target_id) == (
        "throttle.create",
        "throttle_policy",
        str(policy.id),
    )
    assert event.details["after"]["windows"] == ["3/600s", "5/3600s"]
    detail = console.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 per 10 min" in detail and "one every 200 s" in detail


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"name": ""}, "Enter a name."),
        ({"actions": None}, "Choose at least one action."),
        (
            {
                "windows-0-max_requests": "",
                "windows-0-amount": "",
                "windows-1-max_requests": "",
                "windows-1-amount": "",
            },
            "Add at least one window.",
        ),
        ({"windows-1-amount": ""}, "Enter both the number of requests and the window length."),
        (
            {"windows-1-amount": "10", "windows-1-unit": "60"},
            "Each window needs a different length.",
        ),
        (
            {"windows-0-max_requests": "5000", "windows-0-amount": "1", "windows-0-unit": "1"},
            "At most 1,000 requests per second of window.",
        ),
        (
            {"windows-0-amount": "40", "windows-0-unit": "86400"},
            "A window lasts between 1 second and 31 days.",
        ),
        ({"windows-0-max_requests": "abc"}, "Not a valid integer value."),
        ({"key_kind": "prefix"}, "A per-prefix policy needs a number prefix."),
        ({"prefix": "+1-800"}, "Enter digits, optionally after a + (for example 010 or +1)."),
        ({"prefix": "10"}, UNREACHABLE_PREFIX),
        ({"prefix": "+8202"}, UNREACHABLE_PREFIX),
        ({"purpose": "log in"}, "Use letters, digits and . _ : - only (at most 64 characters)."),
        ({"mode": "sometimes"}, "Not a valid choice."),
    ],
)
def test_invalid_policy_is_re_rendered_with_field_errors(app, console, overrides, message):
    console.login(Role.ADMIN)
    form = policy_form(description="keep this text", **overrides)
    response = console.post("/throttle-policies/new", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert "keep this text" in body  # nothing typed is lost
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ThrottlePolicy)) == 0
    assert audit(app) == []


def test_duplicate_name_is_refused(app, console, policy):
    console.login(Role.ADMIN)
    response = console.post("/throttle-policies/new", data=policy_form(name="Per Phone"))
    assert response.status_code == 422 and "already exists" in response.get_data(as_text=True)


def test_admin_edits_windows_and_adds_one(app, console, policy):
    console.login(Role.ADMIN)
    before = only_policy(app)
    short, hour = before.windows
    form_page = console.client.get(f"/throttle-policies/{policy}/edit").get_data(as_text=True)
    assert f'value="{short.id}"' in form_page and 'value="per phone"' in form_page
    response = console.post(
        f"/throttle-policies/{policy}/edit",
        data=policy_form(
            **{
                "name": "per phone",
                "windows-0-window_id": str(short.id),
                "windows-0-max_requests": "4",
                "windows-1-window_id": str(hour.id),
                "windows-2-max_requests": "20",
                "windows-2-amount": "1",
                "windows-2-unit": "86400",
            }
        ),
    )
    assert response.status_code == 302
    after = only_policy(app)
    assert [(w.id, w.max_requests, w.window_seconds) for w in after.windows] == [
        (short.id, 4, 600),
        (hour.id, 5, 3600),
        (after.windows[2].id, 20, 86400),
    ]
    (event,) = [e for e in audit(app, by_operators=True) if e.action == "throttle.update"]
    assert event.details["before"]["windows"] == ["3/600s", "5/3600s"]
    assert event.details["after"]["windows"] == ["4/600s", "5/3600s", "20/86400s"]


def test_edit_error_keeps_the_submitted_values(app, console, policy):
    console.login(Role.ADMIN)
    window_id = only_policy(app).windows[0].id
    response = console.post(
        f"/throttle-policies/{policy}/edit",
        data=policy_form(
            **{
                "name": "renamed",
                "windows-0-window_id": str(window_id),
                "windows-0-max_requests": "0",
            }
        ),
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Allow between 1 and 1,000,000 requests." in body
    assert 'value="renamed"' in body
    assert only_policy(app).name == "per phone"


def test_unchanged_edit_is_not_audited(app, console, policy):
    console.login(Role.ADMIN)
    short, hour = only_policy(app).windows
    console.post(
        f"/throttle-policies/{policy}/edit",
        data=policy_form(
            **{
                "name": "per phone",
                "windows-0-window_id": str(short.id),
                "windows-1-window_id": str(hour.id),
            }
        ),
    )
    assert [e.action for e in audit(app, by_operators=True)] == []


LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _changed_long_ago(app, policy_id: int) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(ThrottlePolicy)
            .where(ThrottlePolicy.id == policy_id)
            .values(updated_at=LONG_AGO)
        )
        db.session.commit()


def test_editing_only_a_window_updates_last_changed(app, console, policy):
    console.login(Role.ADMIN)
    short, hour = only_policy(app).windows
    _changed_long_ago(app, policy)
    response = console.post(
        f"/throttle-policies/{policy}/edit",
        data=policy_form(
            **{
                "name": "per phone",
                "windows-0-window_id": str(short.id),
                "windows-0-max_requests": "4",
                "windows-1-window_id": str(hour.id),
            }
        ),
    )
    assert response.status_code == 302
    assert only_policy(app).updated_at > LONG_AGO
    page = console.client.get(f"/throttle-policies/{policy}").get_data(as_text=True)
    assert "2020-01-01" not in page


def test_removing_a_window_updates_last_changed(app, console, policy):
    console.login(Role.ADMIN)
    short, _hour = only_policy(app).windows
    _changed_long_ago(app, policy)
    console.htmx_post(f"/throttle-policies/{policy}/windows/{short.id}/delete")
    assert only_policy(app).updated_at > LONG_AGO


def test_an_unchanged_edit_keeps_last_changed(app, console, policy):
    console.login(Role.ADMIN)
    short, hour = only_policy(app).windows
    _changed_long_ago(app, policy)
    console.post(
        f"/throttle-policies/{policy}/edit",
        data=policy_form(
            **{
                "name": "per phone",
                "windows-0-window_id": str(short.id),
                "windows-1-window_id": str(hour.id),
            }
        ),
    )
    assert only_policy(app).updated_at == LONG_AGO


# --- htmx actions -----------------------------------------------------------------------------


def test_toggle_with_htmx_returns_the_row(app, console, policy):
    console.login(Role.ADMIN)
    response = console.htmx_post(f"/throttle-policies/{policy}/toggle")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="policy-{policy}"') and "<html" not in body
    assert ">Enable<" in body and "Disabled" in body
    assert not only_policy(app).enabled
    assert [e.action for e in audit(app, by_operators=True)] == ["throttle.disable"]
    console.htmx_post(f"/throttle-policies/{policy}/toggle")
    assert only_policy(app).enabled
    assert [e.action for e in audit(app, by_operators=True)] == [
        "throttle.disable",
        "throttle.enable",
    ]


def test_delete_window_with_htmx_and_the_last_one_stays(app, console, policy):
    console.login(Role.ADMIN)
    short, hour = only_policy(app).windows
    decide(app, phone=PHONE)
    response = console.htmx_post(f"/throttle-policies/{policy}/windows/{short.id}/delete")
    body = response.get_data(as_text=True)
    assert (
        response.status_code == 200
        and f'id="window-{hour.id}"' in body
        and f"window-{short.id}" not in body
    )
    assert "<html" not in body
    refused = console.htmx_post(f"/throttle-policies/{policy}/windows/{hour.id}/delete")
    assert refused.status_code == 422 and "at least one window" in refused.get_data(as_text=True)
    assert [w.id for w in only_policy(app).windows] == [hour.id]
    assert [e.action for e in audit(app, by_operators=True)] == ["throttle.delete_window"]


def test_state_changes_need_a_csrf_token(app, console, policy):
    console.login(Role.ADMIN)
    assert console.client.post(f"/throttle-policies/{policy}/toggle").status_code == 400
    assert (
        console.client.post(
            f"/throttle-policies/{policy}/toggle", headers={"HX-Request": "true"}
        ).status_code
        == 400
    )
    assert console.client.post("/throttle-policies/new", data=policy_form()).status_code == 400
    assert (
        console.client.post("/throttle-policies/test", data={"action": "otp_start"}).status_code
        == 400
    )
    assert only_policy(app).enabled


# --- detail: counters and recent blocks ----------------------------------------------------


def test_detail_shows_counters_and_blocks_masked(app, console, policy):
    console.login(Role.OPERATOR)
    for _ in range(6):
        decide(app, phone=PHONE, ip="203.0.113.7")
    body = console.client.get(f"/throttle-policies/{policy}").get_data(as_text=True)
    assert "010-****-5678" in body and PHONE not in body
    assert "3 / 3" in body  # the 10-minute window is full
    assert body.count("Blocked") >= 3
    counters = console.client.get(
        f"/throttle-policies/{policy}/counters", headers={"HX-Request": "true"}
    )
    assert "010-****-5678" in counters.get_data(as_text=True) and "<html" not in counters.get_data(
        as_text=True
    )
    listing = console.client.get("/throttle-policies").get_data(as_text=True)
    assert "<td>3</td>" in listing  # blocks in the last 24 hours


def test_recent_blocks_page_with_htmx(app, console, policy):
    app.config["PAGE_SIZE"] = 2
    console.login(Role.OPERATOR)
    for _ in range(8):
        decide(app, phone=PHONE)
    first = console.client.get(f"/throttle-policies/{policy}").get_data(as_text=True)
    assert "Older events" in first
    import re

    cursor = re.search(r"cursor=([\w-]+)", first).group(1)
    older = console.client.get(
        f"/throttle-policies/{policy}/events?cursor={cursor}", headers={"HX-Request": "true"}
    )
    assert older.status_code == 200 and "<html" not in older.get_data(as_text=True)
    assert older.get_data(as_text=True).count("010-****-5678") == 2
    assert console.client.get(f"/throttle-policies/{policy}/events?cursor=bogus").status_code == 400


# --- tester ------------------------------------------------------------------------------------


def test_tester_is_a_dry_run_shown_as_a_fragment(app, console, policy):
    console.login(Role.OPERATOR)
    data = {"action": "otp_start", "phone": "010-1234-5678", "ip": "203.0.113.7"}
    for _ in range(4):
        response = console.htmx_post("/throttle-policies/test", data=data)
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and body.lstrip().startswith('<div id="tester"')
        assert "Allowed" in body and "per phone" in body and "2 left after this one" in body
    for _ in range(3):
        assert decide(app, phone=PHONE).allowed  # the tester counted nothing
    body = console.htmx_post("/throttle-policies/test", data=data).get_data(as_text=True)
    assert "Refused" in body and "Retry after 200 s." in body and "full, retry after 200 s" in body
    assert "010-****-5678" in body


def test_tester_validates_its_input(console, policy):
    console.login(Role.OPERATOR)
    bad_ip = console.htmx_post(
        "/throttle-policies/test", data={"action": "otp_start", "ip": "300.1.1.1"}
    )
    assert bad_ip.status_code == 422 and "Enter an IPv4 or IPv6 address." in bad_ip.get_data(
        as_text=True
    )
    bad_phone = console.htmx_post(
        "/throttle-policies/test", data={"action": "otp_start", "phone": "12345"}
    )
    assert bad_phone.status_code == 422 and 'class="error"' in bad_phone.get_data(as_text=True)
    page = console.post("/throttle-policies/test", data={"action": "otp_start", "phone": PHONE})
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)


# --- safelist and blocklist ------------------------------------------------------------------


def test_blocklist_entry_is_stored_hashed_and_applies_at_once(app, console):
    console.login(Role.ADMIN)
    response = console.htmx_post(
        "/throttle-policies/lists",
        data={
            "list_kind": "block",
            "match": "number",
            "value": "010-1234-5678",
            "note": "fraud report 42",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="lists"')
    assert "010-****-5678" in body and PHONE not in body and "fraud report 42" in body
    with app.app_context():
        entry = db.session.scalars(sa.select(ThrottleListEntry)).one()
        assert entry.value_key == app.config["KEYRING"].lookup_hash(PHONE, "throttle:phone")
        entry_id = entry.id
    assert decide(app, phone=PHONE).reason == "blocklist"
    duplicate = console.htmx_post(
        "/throttle-policies/lists",
        data={"list_kind": "block", "match": "number", "value": "+82 10 1234 5678"},
    )
    assert duplicate.status_code == 422 and "already on the list" in duplicate.get_data(
        as_text=True
    )
    removed = console.htmx_post(f"/throttle-policies/lists/{entry_id}/delete")
    assert (
        removed.status_code == 200
        and "010-****-5678" not in removed.get_data(as_text=True).split("Recent")[0]
    )
    assert decide(app, phone=PHONE).allowed
    events = audit(app)
    assert [e.action for e in events] == ["throttle.blocklist_add", "throttle.blocklist_remove"]
    assert all(PHONE not in str(e.details) for e in events)
    assert events[0].target_type == "throttle_list_entry"


@pytest.mark.parametrize(
    "match,value,message",
    [
        ("number", "12345", "Korean mobile number"),
        ("prefix", "abc", "for example 010 or +1"),
        # Numbers are compared as 01X... or, with a +, as E.164: these can match none.
        ("prefix", "1", UNREACHABLE_PREFIX),
        ("prefix", "10", UNREACHABLE_PREFIX),
        ("prefix", "02", UNREACHABLE_PREFIX),
        ("prefix", "0101234567890", UNREACHABLE_PREFIX),
        ("prefix", "+0", UNREACHABLE_PREFIX),
        ("prefix", "+82010", UNREACHABLE_PREFIX),
    ],
)
def test_invalid_list_entries_are_refused(app, console, match, value, message):
    console.login(Role.ADMIN)
    response = console.post(
        "/throttle-policies/lists",
        data={"list_kind": "block", "match": match, "value": value, "note": "keep this note"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body
    assert body.count('role="alert"') == 1
    assert f'value="{value}"' in body and "keep this note" in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ThrottleListEntry)) == 0


@pytest.mark.parametrize("value", ["0", "01", "010", "0101234", "+82", "+8210", "+1", "+234"])
def test_prefixes_that_can_match_a_number_are_accepted(app, console, value):
    console.login(Role.ADMIN)
    response = console.post(
        "/throttle-policies/lists", data={"list_kind": "block", "match": "prefix", "value": value}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(ThrottleListEntry.value_key)).all() == [value]


def test_safelist_prefix_without_htmx_redirects(app, console):
    console.login(Role.ADMIN)
    response = console.post(
        "/throttle-policies/lists", data={"list_kind": "safe", "match": "prefix", "value": "+8210"}
    )
    assert (
        response.status_code == 302 and response.headers["Location"] == "/throttle-policies/lists"
    )
    assert "+8210" in console.client.get("/throttle-policies/lists").get_data(as_text=True)
    assert [e.action for e in audit(app)] == ["throttle.safelist_add"]
