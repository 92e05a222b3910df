"""/send-logs: filters on every indexed column, local time ranges, phone search by hash, paging."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from tests.send_logs.conftest import OTHER_PHONE, PHONE


def _ids(response) -> list[str]:
    return re.findall(r'id="message-([0-9a-f-]{36})"', response.get_data(as_text=True))


def test_viewer_sees_messages_newest_first_with_masked_numbers(console, add_log):
    older = add_log(created_at=datetime.now(UTC) - timedelta(minutes=5))
    newer = add_log()
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _ids(response) == [newer, older]
    assert "010-****-1357" in text
    assert "01024681357" not in text and "2468-1357" not in text


@pytest.mark.parametrize(
    "name, value, matching, other",
    [
        ("status", "FAILED", {"status": "FAILED"}, {"status": "DELIVERED"}),
        (
            "error_code",
            "AUTHENTICATION_FAILED",
            {"error_code": "AUTHENTICATION_FAILED"},
            {"error_code": "NETWORK_ERROR"},
        ),
        ("provider", "iwinv-main", {"provider_code": "iwinv-main"}, {"provider_code": "sandbox"}),
        ("type", "ALIMTALK", {"type": "ALIMTALK"}, {"type": "SMS"}),
        ("source", "otp", {"source": "otp"}, {"source": "api"}),
        ("template", "ORDER_OK", {"template_code": "ORDER_OK"}, {"template_code": "ORDER_OK_2"}),
        ("vendor_code", "206", {"vendor_code": "206"}, {"vendor_code": "2060"}),
    ],
)
def test_each_filter_keeps_only_matching_messages(
    console, add_log, add_provider, name, value, matching, other
):
    add_provider("iwinv-main", "iwinv")
    add_provider("sandbox", "sandbox")
    wanted = add_log(**matching)
    add_log(**other)
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs", query_string={name: value})
    assert response.status_code == 200
    assert _ids(response) == [wanted]


def _failed_over_from_solapi_to_iwinv(add_log, add_provider) -> str:
    """Both providers set up, and a message SOLAPI failed that IWINV then accepted."""
    add_provider("solapi-main", "solapi")
    add_provider("iwinv-main", "iwinv")
    return add_log(
        provider_code="iwinv-main",
        attempts=[
            {"provider_code": "solapi-main", "outcome": "failed", "error_code": "NETWORK_ERROR"},
            {"provider_code": "iwinv-main", "trigger": "failover", "outcome": "accepted"},
        ],
    )


def test_tried_at_provider_finds_messages_that_failed_over_elsewhere(
    console, add_log, add_provider
):
    failed_over = _failed_over_from_solapi_to_iwinv(add_log, add_provider)
    stayed = add_log(
        provider_code="solapi-main",
        attempts=[{"provider_code": "solapi-main", "outcome": "accepted"}],
    )
    add_log(
        provider_code="iwinv-main",
        attempts=[{"provider_code": "iwinv-main", "outcome": "accepted"}],
    )
    console.login(Role.VIEWER)

    # "Provider" is where a message ended; "tried at" is every provider it went through.
    assert _ids(console.client.get("/send-logs", query_string={"provider": "solapi-main"})) == [
        stayed
    ]
    tried = console.client.get("/send-logs", query_string={"attempted": "solapi-main"})
    assert tried.status_code == 200 and _ids(tried) == [stayed, failed_over]
    both = console.client.get(
        "/send-logs", query_string={"attempted": "solapi-main", "provider": "iwinv-main"}
    )
    assert _ids(both) == [failed_over]
    # The filter survives in the page's links (the export and the next page use them).
    assert "attempted=solapi-main" in tried.get_data(as_text=True)


def test_attempt_outcome_is_matched_on_the_same_attempt_as_the_provider(
    console, add_log, add_provider
):
    failed_over = _failed_over_from_solapi_to_iwinv(add_log, add_provider)
    unknown = add_log(
        provider_code="solapi-main",
        status="UNKNOWN",
        attempts=[{"provider_code": "solapi-main", "outcome": "unknown"}],
    )
    in_flight = add_log(
        provider_code="solapi-main",
        status="PENDING",
        attempts=[{"provider_code": "solapi-main", "outcome": "in_flight"}],
    )
    accepted = add_log(
        provider_code="solapi-main",
        attempts=[{"provider_code": "solapi-main", "outcome": "accepted"}],
    )
    console.login(Role.VIEWER)

    def listed(**query):
        response = console.client.get("/send-logs", query_string=query)
        assert response.status_code == 200
        return _ids(response)

    not_accepted = listed(attempted="solapi-main", attempt_outcome="not_accepted")
    assert not_accepted == [in_flight, unknown, failed_over]
    # iwinv accepted the failed-over message: its failure at SOLAPI does not count there.
    assert listed(attempted="iwinv-main", attempt_outcome="not_accepted") == []
    assert listed(attempted="iwinv-main", attempt_outcome="accepted") == [failed_over]
    assert listed(attempted="solapi-main", attempt_outcome="failed") == [failed_over]
    # An attempt still in flight counts as unknown, as on the dashboard.
    assert listed(attempted="solapi-main", attempt_outcome="unknown") == [in_flight, unknown]
    # Without a provider: an attempt anywhere that ended so.
    assert listed(attempt_outcome="accepted") == [accepted, failed_over]
    page = console.client.get("/send-logs", query_string={"attempt_outcome": "failed"}).get_data(
        as_text=True
    )
    assert "attempt_outcome=failed" in re.search(r'href="([^"]*export\.csv[^"]*)"', page).group(1)


def test_tried_at_a_deleted_provider_stays_selectable(console, add_log):
    gone = add_log(provider_code="old-vendor", attempts=[{"provider_code": "old-vendor"}])
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs", query_string={"attempted": "old-vendor"})
    assert response.status_code == 200 and _ids(response) == [gone]
    assert re.search(
        r'<option selected value="old-vendor">|<option value="old-vendor" selected>',
        response.get_data(as_text=True),
    )


def test_api_key_filter(app, console, add_log):
    with app.test_request_context():
        shop = issue_key("shop", ["send"], actor_label="test")
        other = issue_key("other", ["send"], actor_label="test")
        db.session.commit()
        shop_id, other_id = shop.key.id, other.key.id
    wanted = add_log(api_key_id=shop_id)
    add_log(api_key_id=other_id)
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs", query_string={"api_key": str(shop_id)})
    assert _ids(response) == [wanted]
    assert ">shop</option>" in response.get_data(as_text=True)


def test_time_range_is_read_in_the_operators_zone_and_the_end_is_exclusive(console, add_log):
    # 2026-01-01 00:30 in Seoul is 2025-12-31 15:30 UTC.
    inside = add_log(created_at=datetime(2025, 12, 31, 15, 30, tzinfo=UTC))
    add_log(created_at=datetime(2025, 12, 31, 14, 59, tzinfo=UTC))  # 23:59 on Dec 31 in Seoul
    at_end = add_log(created_at=datetime(2025, 12, 31, 16, 0, tzinfo=UTC))  # 01:00 in Seoul
    console.login(Role.VIEWER)
    response = console.client.get(
        "/send-logs", query_string={"since": "2026-01-01T00:00", "until": "2026-01-01T01:00"}
    )
    assert _ids(response) == [inside]
    wider = console.client.get(
        "/send-logs", query_string={"since": "2026-01-01T00:00", "until": "2026-01-01T01:01"}
    )
    assert _ids(wider) == [at_end, inside]


def test_phone_search_redirects_to_a_link_without_the_number(console, add_log):
    mine = add_log(phone=PHONE)
    add_log(phone=OTHER_PHONE)
    console.login(Role.VIEWER)
    response = console.client.get(
        "/send-logs", query_string={"phone": "+82 10-2468-1357", "status": ""}
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "2468" not in location and "1357" not in location
    recipient = parse_qs(urlsplit(location).query)["recipient"][0]
    assert re.fullmatch(r"[0-9a-f]{64}", recipient)
    page = console.client.get(location)
    assert _ids(page) == [mine]
    text = page.get_data(as_text=True)
    assert "010-****-1357" in text and 'name="recipient"' in text  # the chip keeps the filter
    assert '<a href="/send-logs" aria-label="Remove the recipient filter">' in text


def test_htmx_phone_search_pushes_the_hashed_url(console, add_log):
    mine = add_log(phone=PHONE)
    add_log(phone=OTHER_PHONE)
    console.login(Role.VIEWER)
    response = console.client.get(
        "/send-logs", query_string={"phone": "01024681357"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert _ids(response) == [mine]
    pushed = response.headers["HX-Push-Url"]
    assert "recipient=" in pushed and "1357" not in pushed
    text = response.get_data(as_text=True)
    assert "<h1>" not in text and "<html" not in text  # a fragment
    assert (
        "5678" not in text.split("010-****-1357")[0]
    )  # the export link carries the hash, not the number
    assert "recipient=" in re.search(r'href="([^"]*export\.csv[^"]*)"', text).group(1)


@pytest.mark.parametrize(
    "query, field_error",
    [
        ({"phone": "12ab"}, "valid phone number"),
        ({"status": "BOGUS"}, "Not a valid choice"),
        ({"attempt_outcome": "lost"}, "Not a valid choice"),
        ({"since": "2026-01-02T00:00", "until": "2026-01-01T00:00"}, "later than the start"),
        ({"since": "yesterday"}, "Not a valid datetime"),
        ({"recipient": "not-a-hash"}, "recipient link is not valid"),
    ],
)
def test_bad_filters_answer_422_with_the_error_and_keep_the_input(console, query, field_error):
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs", query_string=query)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error in text
    if "phone" in query:
        assert 'value="12ab"' in text


def test_bad_cursor_is_a_400(console):
    console.login(Role.VIEWER)
    assert console.client.get("/send-logs?cursor=!!!").status_code == 400


def test_pages_follow_the_cursor_and_keep_the_filters(app, console, add_log):
    app.config["PAGE_SIZE"] = 2
    start = datetime.now(UTC) - timedelta(hours=1)
    failed = [add_log(status="FAILED", created_at=start + timedelta(minutes=i)) for i in range(5)]
    add_log(status="SENT", created_at=start + timedelta(minutes=2, seconds=30))
    console.login(Role.VIEWER)
    seen: list[str] = []
    url = "/send-logs?status=FAILED"
    while url:
        response = console.client.get(url)
        seen += _ids(response)
        match = re.search(r'href="([^"]*cursor=[^"]*)"', response.get_data(as_text=True))
        url = match.group(1).replace("&amp;", "&") if match else None
        if url:
            assert "status=FAILED" in url and "cursor=" in url
    assert seen == list(reversed(failed))


def test_filter_changes_answer_a_fragment_for_htmx(console, add_log):
    add_log()
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs?status=SENT", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert (
        response.status_code == 200
        and "<form" not in text
        and 'class="table send-log-table"' in text
    )
    full = console.client.get("/send-logs?status=SENT").get_data(as_text=True)
    assert "<form" in full and 'id="results"' in full
