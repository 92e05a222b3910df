"""Throttle rules, on every counter store: windows, all-or-nothing, modes, lists, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.throttle import engine, services
from kmsg_console.throttle.engine import Window, gcra
from kmsg_console.throttle.models import (
    EntryMatch,
    EventOutcome,
    KeyKind,
    ListKind,
    ThrottleEvent,
    ThrottleMode,
    ThrottlePolicy,
)
from tests.throttle.conftest import decide

PHONE = "01012345678"
OTHER = "01098765432"


@pytest.fixture
def t0() -> datetime:
    # Real time (not a fixed date): Redis expires counters by the wall clock.
    return datetime.now(UTC).replace(microsecond=0)


def at(t0: datetime, seconds: float) -> datetime:
    return t0 + timedelta(seconds=seconds)


def admitted(app, n: int, when: datetime, **ctx) -> list[bool]:
    return [decide(app, now=when, **ctx).allowed for _ in range(n)]


def events(app) -> list[ThrottleEvent]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(ThrottleEvent).order_by(ThrottleEvent.id)))
        db.session.expunge_all()
        return rows


# --- the pure algorithm -----------------------------------------------------------------


@pytest.mark.parametrize(
    "limit,seconds",
    [
        (1, 1),
        (3, 600),
        (5, 3600),
        (7, 3600),
        (10, 3600),
        (999, 1),
        (10_000, 86400),
        (86_399, 86400),
        (1_000_000, 31 * 86400),
    ],
)
def test_gcra_burst_is_exactly_the_limit(limit, seconds):
    window = Window(1, limit, seconds)
    now = 1_800_000_000_000_000
    tat, stored, admitted_count = 0, 0, 0
    for _ in range(limit + 2):
        result = gcra(tat, stored, window, now)
        if result.allowed:
            tat, stored, admitted_count = result.new_tat, window.interval_us, admitted_count + 1
    assert admitted_count == limit


def test_gcra_frees_one_slot_per_interval():
    window = Window(1, 3, 600)
    now = 1_800_000_000_000_000
    tat = 0
    for _ in range(3):
        tat = gcra(tat, window.interval_us, window, now).new_tat
    refused = gcra(tat, window.interval_us, window, now)
    assert not refused.allowed and refused.retry_us == 200_000_000
    assert not gcra(tat, window.interval_us, window, now + 199_999_999).allowed
    assert gcra(tat, window.interval_us, window, now + 200_000_000).allowed


def test_unknown_action_is_a_programming_error(app):
    with app.app_context(), pytest.raises(ValueError):
        engine.check_and_consume("otp_resend", engine.ThrottleContext(phone=PHONE))


# --- windows ------------------------------------------------------------------------------


def test_three_per_ten_minutes(app, store, make_policy, t0):
    make_policy(windows=[(3, 600)])
    assert admitted(app, 3, t0, phone=PHONE) == [True, True, True]
    refused = decide(app, now=at(t0, 1), phone=PHONE)
    assert not refused.allowed and refused.reason == "rate"
    assert refused.retry_after_seconds == 199  # one request is earned every 200 s
    assert refused.blocked_by[0].policy_name == "rule"
    assert decide(app, now=at(t0, 1), phone=OTHER).allowed  # another number has its own counter
    assert decide(app, now=at(t0, 200), phone=PHONE).allowed
    assert not decide(app, now=at(t0, 201), phone=PHONE).allowed


def test_requests_judged_out_of_clock_order_still_admit_the_whole_burst(
    app, store, make_policy, t0
):
    # Threads read the clock before they get the lock, so a later timestamp can go first.
    make_policy(windows=[(3, 600)])
    assert [decide(app, now=at(t0, s), phone=PHONE).allowed for s in (0.005, 0, 0.002, 0.001)] == [
        True,
        True,
        True,
        False,
    ]


def test_the_hour_window_caps_the_sustained_rate(app, store, make_policy, t0):
    make_policy(windows=[(3, 600), (5, 3600)])
    assert admitted(app, 3, t0, phone=PHONE) == [True] * 3
    assert decide(app, now=at(t0, 200), phone=PHONE).allowed
    assert decide(app, now=at(t0, 400), phone=PHONE).allowed
    refused = decide(app, now=at(t0, 600), phone=PHONE)
    assert not refused.allowed
    (rule,) = refused.blocked_by
    assert [(w.window_seconds, w.allowed) for w in rule.windows] == [(600, True), (3600, False)]
    assert refused.retry_after_seconds == 120


def test_windows_of_one_policy_are_consumed_all_or_nothing(app, store, make_policy, t0):
    make_policy(windows=[(2, 60), (3, 3600)])
    assert admitted(app, 2, t0, phone=PHONE) == [True, True]
    assert not decide(app, now=t0, phone=PHONE).allowed  # the minute refuses: the hour keeps 1
    assert decide(app, now=at(t0, 30), phone=PHONE).allowed
    assert not decide(app, now=at(t0, 90), phone=PHONE).allowed  # the hour is spent


def test_policies_are_consumed_all_or_nothing(app, store, make_policy, t0):
    make_policy("per phone", windows=[(3, 600)])
    make_policy("per ip", key_kind=KeyKind.IP, windows=[(1, 600)])
    assert decide(app, now=t0, phone=PHONE, ip="203.0.113.5").allowed
    refused = decide(app, now=t0, phone=PHONE, ip="203.0.113.5")
    assert not refused.allowed and [r.policy_name for r in refused.blocked_by] == ["per ip"]
    # The refused request did not spend the phone's quota: two remain.
    assert decide(app, now=t0, phone=PHONE, ip="198.51.100.1").allowed
    assert decide(app, now=t0, phone=PHONE, ip="198.51.100.2").allowed
    assert not decide(app, now=t0, phone=PHONE, ip="198.51.100.3").allowed


def test_retry_after_is_the_longest_wait_of_all_refusing_windows(app, store, make_policy, t0):
    make_policy("short", windows=[(1, 60)])
    make_policy("long", key_kind=KeyKind.GLOBAL, windows=[(1, 3600)])
    decide(app, now=t0, phone=PHONE)
    refused = decide(app, now=at(t0, 10), phone=PHONE)
    assert {r.policy_name for r in refused.blocked_by} == {"short", "long"}
    assert refused.retry_after_seconds == 3590


# --- modes, filters, kinds ------------------------------------------------------------------


def test_monitor_mode_logs_would_have_blocked_and_allows(app, store, make_policy, t0):
    policy_id = make_policy(mode=ThrottleMode.MONITOR, windows=[(1, 600)])
    assert decide(app, now=t0, phone=PHONE).allowed
    second = decide(app, now=t0, phone=PHONE)
    assert second.allowed and second.reason is None and second.blocked_by == []
    assert [r.policy_id for r in second.monitored] == [policy_id]
    (event,) = events(app)
    assert (event.outcome, event.policy_id, event.action) == (
        EventOutcome.MONITORED,
        policy_id,
        "otp_start",
    )
    assert (event.max_requests, event.window_seconds) == (1, 600)


def test_monitor_rule_counts_only_what_enforcing_it_would_admit(app, store, make_policy, t0):
    make_policy(mode=ThrottleMode.MONITOR, windows=[(2, 600)])
    results = [decide(app, now=t0, phone=PHONE).monitored == [] for _ in range(4)]
    assert results == [True, True, False, False]
    # 300 s later one slot is free again (it would be if the rule were enforced).
    assert decide(app, now=at(t0, 300), phone=PHONE).monitored == []


def _used(app, policy_id: int) -> dict[int, int]:
    with app.app_context():
        policy = db.session.get(ThrottlePolicy, policy_id)
        return {view.window_seconds: view.used for view in services.policy_counters(policy)}


def test_give_back_uncounts_exactly_what_the_decision_counted(app, store, make_policy, t0):
    phones = make_policy("phones", windows=[(3, 600), (5, 3600)])
    ips = make_policy("ips", key_kind=KeyKind.IP, mode=ThrottleMode.MONITOR, windows=[(1, 600)])
    first = decide(app, now=t0, phone=PHONE, ip="203.0.113.7")
    second = decide(app, now=t0, phone=PHONE, ip="203.0.113.7")  # the monitor rule refuses
    assert first.allowed and second.allowed and second.monitored
    with app.app_context():
        engine.give_back(second)
    assert _used(app, phones) == {600: 1, 3600: 1}
    assert _used(app, ips) == {600: 1}  # the second decision never counted on it

    assert admitted(app, 2, t0, phone=PHONE) == [True, True]
    refused = decide(app, now=t0, phone=PHONE)
    assert not refused.allowed and refused.spent == ()
    with app.app_context():
        engine.give_back(refused)
    assert _used(app, phones) == {600: 3, 3600: 3}


def test_disabled_policy_is_ignored(app, store, make_policy, t0):
    make_policy(windows=[(1, 600)], enabled=False)
    assert admitted(app, 3, t0, phone=PHONE) == [True] * 3
    assert decide(app, now=t0, phone=PHONE).rules == []


def test_purpose_filter(app, store, make_policy, t0):
    make_policy(windows=[(1, 600)], purpose="login")
    assert admitted(app, 2, t0, phone=PHONE, purpose="signup") == [True, True]
    assert admitted(app, 2, t0, phone=PHONE, purpose="login") == [True, False]


@pytest.mark.parametrize(
    "prefix,limited,free",
    [("+1", "+15551234567", PHONE), ("019", "01912345678", PHONE), ("+8210", PHONE, "01912345678")],
)
def test_prefix_filter(app, store, make_policy, t0, prefix, limited, free):
    make_policy(windows=[(1, 600)], prefix=prefix)
    assert admitted(app, 2, t0, phone=limited) == [True, False]
    assert admitted(app, 2, t0, phone=free) == [True, True]


def test_prefix_key_shares_one_counter_between_numbers(app, store, make_policy, t0):
    make_policy(key_kind=KeyKind.PREFIX, prefix="+234", windows=[(2, 3600)])
    assert decide(app, now=t0, phone="+2348011111111").allowed
    assert decide(app, now=t0, phone="+2348022222222").allowed
    refused = decide(app, now=t0, phone="+2348033333333")
    assert not refused.allowed and refused.blocked_by[0].key_masked == "+234"
    assert decide(app, now=t0, phone=PHONE).allowed


@pytest.mark.parametrize(
    "kind,same,different",
    [
        (KeyKind.IP, {"ip": "203.0.113.5"}, {"ip": "203.0.113.6"}),
        (KeyKind.API_KEY, {"api_key_id": 7}, {"api_key_id": 8}),
        (KeyKind.USER, {"user_ref": "user-1"}, {"user_ref": "user-2"}),
        (KeyKind.PURPOSE, {"purpose": "login"}, {"purpose": "signup"}),
    ],
)
def test_each_key_kind_counts_separately(app, store, make_policy, t0, kind, same, different):
    make_policy(key_kind=kind, windows=[(1, 600)], actions=("api_send",))
    assert decide(app, "api_send", now=t0, phone=PHONE, **same).allowed
    assert not decide(app, "api_send", now=t0, phone=OTHER, **same).allowed
    assert decide(app, "api_send", now=t0, phone=PHONE, **different).allowed
    assert decide(app, "otp_start", now=t0, phone=PHONE, **same).allowed  # other action
    assert decide(app, "api_send", now=t0, phone=PHONE).allowed  # the rule needs the value


def test_global_cap_spans_numbers_and_actions(app, store, make_policy, t0):
    make_policy(key_kind=KeyKind.GLOBAL, actions=("otp_start", "api_send"), windows=[(2, 86400)])
    assert decide(app, "otp_start", now=t0, phone=PHONE).allowed
    assert decide(app, "api_send", now=t0, phone=OTHER).allowed
    assert not decide(app, "api_send", now=t0, phone="01055556666").allowed
    assert decide(app, "otp_check_failure", now=t0, phone=PHONE).allowed


# --- lists ---------------------------------------------------------------------------------


def _list(app, kind: ListKind, match: EntryMatch, value: str) -> None:
    with app.test_request_context():
        services.add_list_entry(kind, match, value, "", actor=None)
        db.session.commit()


def test_safelist_bypasses_rate_rules_and_counts_nothing(app, store, make_policy, t0):
    policy_id = make_policy(windows=[(1, 600)])
    _list(app, ListKind.SAFE, EntryMatch.NUMBER, "010-1234-5678")
    results = [decide(app, now=t0, phone=PHONE, ip="203.0.113.5") for _ in range(5)]
    assert all(r.allowed and r.safelisted for r in results)
    with app.app_context():
        assert services.policy_counters(db.session.get(ThrottlePolicy, policy_id)) == []
    assert decide(app, now=t0, phone=OTHER).allowed and not decide(app, now=t0, phone=OTHER).allowed


@pytest.mark.parametrize(
    "match,value,phone",
    [
        (EntryMatch.NUMBER, "+82 10-1234-5678", PHONE),
        (EntryMatch.PREFIX, "+234", "+2348012345678"),
        (EntryMatch.PREFIX, "0101234", PHONE),
    ],
)
def test_blocklist_refuses_and_logs_a_masked_key(app, store, t0, match, value, phone):
    _list(app, ListKind.BLOCK, match, value)
    decision = decide(app, now=t0, phone=phone)
    assert (decision.allowed, decision.reason, decision.retry_after_seconds) == (
        False,
        "blocklist",
        None,
    )
    assert decide(app, now=t0, phone="01055556666").allowed
    (event,) = events(app)
    assert event.outcome == EventOutcome.BLOCKLISTED and event.policy_id is None
    assert phone.lstrip("+") not in event.key_masked and "****" in event.key_masked


def test_blocklist_wins_over_safelist(app, store, t0):
    _list(app, ListKind.SAFE, EntryMatch.NUMBER, PHONE)
    _list(app, ListKind.BLOCK, EntryMatch.PREFIX, "010")
    assert decide(app, now=t0, phone=PHONE).reason == "blocklist"


# --- dry runs, logging, edits -------------------------------------------------------------


def test_dry_run_consumes_nothing_and_logs_nothing(app, store, make_policy, t0):
    make_policy(windows=[(2, 600)])
    for _ in range(5):
        probe = decide(app, now=t0, phone=PHONE, dry_run=True)
        assert probe.allowed and probe.dry_run and probe.rules[0].windows[0].remaining == 1
    assert admitted(app, 3, t0, phone=PHONE) == [True, True, False]
    events_before = len(events(app))
    probe = decide(app, now=t0, phone=PHONE, dry_run=True)
    assert not probe.allowed and probe.retry_after_seconds == 300
    assert len(events(app)) == events_before
    assert decide(app, now=at(t0, 300), phone=PHONE).allowed  # the dry run did not move the clock


def test_block_log_holds_hashes_and_masks_never_raw_values(app, store, make_policy, t0):
    make_policy("phone", windows=[(1, 600)])
    make_policy("ip", key_kind=KeyKind.IP, windows=[(1, 600)])
    decide(app, now=t0, phone=PHONE, ip="203.0.113.77")
    decide(app, now=t0, phone=PHONE, ip="203.0.113.77")
    rows = events(app)
    assert sorted(e.key_masked for e in rows) == ["010-****-5678", "203.0.113.*"]
    with app.app_context():
        keyring = app.config["KEYRING"]
        assert {e.key_hash for e in rows} == {
            keyring.lookup_hash(PHONE, "throttle:phone"),
            keyring.lookup_hash("203.0.113.77", "throttle:ip"),
        }
        dumped = " ".join(str(v) for e in rows for v in vars(e).values())
    assert PHONE not in dumped and "203.0.113.77" not in dumped


def test_an_edited_limit_keeps_what_was_used(app, store, make_policy, t0):
    policy_id = make_policy(windows=[(3, 600)])
    assert admitted(app, 4, t0, phone=PHONE) == [True, True, True, False]
    _edit_windows(app, policy_id, [(5, 600)])
    assert admitted(app, 3, t0, phone=PHONE) == [True, True, False]  # 3 used of 5
    _edit_windows(app, policy_id, [(2, 600)])
    refused = decide(app, now=t0, phone=PHONE)
    assert not refused.allowed and refused.retry_after_seconds > 600 - 1  # 5 used of 2


def _edit_windows(app, policy_id: int, windows) -> None:
    with app.test_request_context():
        policy = db.session.get(ThrottlePolicy, policy_id)
        data = services.PolicyData(
            name=policy.name,
            mode=policy.mode,
            key_kind=policy.key_kind,
            actions=list(policy.actions),
            windows=[
                services.WindowData(limit, seconds, w.id)
                for (limit, seconds), w in zip(windows, policy.windows, strict=True)
            ],
        )
        services.update_policy(policy, data, actor=None)
        db.session.commit()


def test_current_counters_show_masked_keys_and_usage(app, store, make_policy, t0):
    policy_id = make_policy(windows=[(3, 600), (5, 3600)])
    decide(app, now=t0, phone=PHONE)
    decide(app, now=t0, phone=PHONE)
    decide(app, now=t0, phone=OTHER)
    with app.app_context():
        policy = db.session.get(ThrottlePolicy, policy_id)
        views = engine.current_counters(
            [Window(w.id, w.max_requests, w.window_seconds) for w in policy.windows], now=t0
        )
    summary = sorted((v.key_masked, v.window_seconds, v.used) for v in views)
    assert summary == [
        ("010-****-5432", 600, 1),
        ("010-****-5432", 3600, 1),
        ("010-****-5678", 600, 2),
        ("010-****-5678", 3600, 2),
    ]


def test_default_policies_are_seeded_once(app, t0):
    with app.app_context():
        created = services.ensure_default_policies()
        db.session.commit()
        assert services.ensure_default_policies() == []
        db.session.commit()
        names = set(db.session.scalars(sa.select(ThrottlePolicy.name)))
    assert len(created) == len(names) == 5
    assert admitted(app, 4, t0, phone=PHONE, ip="203.0.113.5") == [True, True, True, False]
    for i in range(7):
        assert decide(app, now=t0, phone=f"010555500{i:02d}", ip="203.0.113.5").allowed
    ip_limited = decide(app, now=t0, phone="01055559999", ip="203.0.113.5")
    assert [r.policy_name for r in ip_limited.blocked_by] == ["OTP starts per IP"]


def test_purge_drops_idle_counters_and_old_events(app, make_policy, t0):
    policy_id = make_policy(windows=[(1, 600)])
    decide(app, now=t0, phone=PHONE)
    decide(app, now=t0, phone=PHONE)  # blocked: one event
    decide(app, now=at(t0, 3000), phone=OTHER)
    with app.app_context():
        services.purge(at(t0, 700), keep_events=timedelta(seconds=600))
        db.session.commit()
        policy = db.session.get(ThrottlePolicy, policy_id)
        live = services.policy_counters(policy)
        remaining = db.session.scalar(sa.select(sa.func.count()).select_from(ThrottleEvent))
        stored = db.session.scalar(sa.text("SELECT count(*) FROM throttle_counter"))
    assert [v.key_masked for v in live] == ["010-****-5432"] and stored == 1
    assert remaining == 0


def test_unreachable_redis_raises_throttle_unavailable(app, make_policy):
    make_policy()
    app.config.update(REDIS_URL="redis://127.0.0.1:1/0", REDIS_PREFIX="kmsg-test-down:")
    app.extensions.pop(engine.EXTENSION_KEY, None)
    with app.app_context(), pytest.raises(engine.ThrottleUnavailable):
        engine.check_and_consume("otp_start", engine.ThrottleContext(phone=PHONE))


def test_only_throttle_decisions_skip_waiting_for_the_disk(app, make_policy, t0):
    """Counters are soft state; every other commit (the send path's) still waits for the disk."""
    make_policy(windows=((3, 600),))
    assert [decide(app, now=at(t0, 0), phone=PHONE).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    with app.app_context():
        throttle_engine = engine.runtime(app).backend.engine
        sqlite = db.engine.dialect.name == "sqlite"
        setting = "PRAGMA synchronous" if sqlite else "SHOW synchronous_commit"
        with throttle_engine.connect() as conn:  # the pooled connection the decisions used
            throttle_setting = conn.exec_driver_sql(setting).scalar()
        with db.engine.connect() as conn:
            app_setting = conn.exec_driver_sql(setting).scalar()
    if sqlite:
        assert (throttle_setting, app_setting) == (1, 2)  # NORMAL for counters, FULL for the app
    else:  # off on the throttle's own connections only
        assert (throttle_setting, app_setting) == ("off", "on")
