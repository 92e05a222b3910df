"""Keyset paging of /send-logs: a stable order with equal timestamps, and no row skipped or
repeated while new messages arrive between pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.sending.models import MessageLog


def _ids(response) -> list[str]:
    return re.findall(r'id="message-([0-9a-f-]{36})"', response.get_data(as_text=True))


def _next(response) -> str | None:
    match = re.search(r'href="([^"]*cursor=[^"]*)"', response.get_data(as_text=True))
    return match.group(1).replace("&amp;", "&") if match else None


def _insert_order(app, public_ids: list[str]) -> list[str]:
    """The ids newest first as the table orders them: created_at, then id, descending."""
    with app.app_context():
        rows = db.session.execute(
            MessageLog.__table__.select()
            .where(MessageLog.public_id.in_(public_ids))
            .order_by(MessageLog.created_at.desc(), MessageLog.id.desc())
        ).all()
    return [row.public_id for row in rows]


def test_equal_timestamps_page_in_a_stable_order_without_gaps(app, console, add_log):
    app.config["PAGE_SIZE"] = 3
    moment = datetime.now(UTC) - timedelta(minutes=10)
    same_time = [add_log(created_at=moment) for _ in range(8)]
    console.login(Role.VIEWER)
    seen, url, pages = [], "/send-logs", 0
    while url:
        response = console.client.get(url)
        assert response.status_code == 200
        page = _ids(response)
        assert 0 < len(page) <= 3
        seen += page
        url, pages = _next(response), pages + 1
    assert pages == 3
    assert seen == _insert_order(app, same_time)  # every row once, ties broken by id


def test_new_messages_between_pages_neither_shift_nor_repeat_rows(app, console, add_log):
    app.config["PAGE_SIZE"] = 2
    start = datetime.now(UTC) - timedelta(hours=1)
    old = [
        add_log(created_at=start + timedelta(minutes=i // 2)) for i in range(7)
    ]  # pairs share a time
    console.login(Role.VIEWER)
    first = console.client.get("/send-logs")
    seen = _ids(first)
    url = _next(first)
    arrived = []
    while url:
        arrived.append(add_log())  # a new message lands while the operator reads
        response = console.client.get(url)
        seen += _ids(response)
        url = _next(response)
    assert seen == _insert_order(app, old)
    assert not set(arrived) & set(seen)
    # Back on the first page, the new ones are on top.
    assert _ids(console.client.get("/send-logs"))[:2] == list(reversed(arrived))[:2]
