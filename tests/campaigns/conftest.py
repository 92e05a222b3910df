"""Fixtures: the SOLAPI simulator as the only provider, the rules' clock at noon, CSV files."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from kmsg_console.campaigns import dispatch, services, upload
from kmsg_console.extensions import db
from tests.advertising.conftest import AD_TEXT, clock, solapi  # noqa: F401 - fixtures

__all__ = ["AD_TEXT"]


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """Pacing sleeps are skipped; the slots are still reserved and spaced."""
    monkeypatch.setattr(dispatch, "sleep", lambda seconds: None)


def csv_file(lines: list[str], encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO("\n".join(lines).encode(encoding))


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"010{5000_0000 + start + i:08d}" for i in range(count)]


def make_campaign(lines: list[str], *, confirm: bool = True, **fields):
    fields.setdefault("name", "겨울 안내")
    fields.setdefault("text", "#{이름}님, 겨울 안내입니다.")
    campaign = services.create_draft(
        rows=upload.read_csv(csv_file(lines)), actor_label="test", **fields
    )
    if confirm:
        services.confirm(campaign, actor_label="test")
    db.session.commit()
    return campaign


def simulator_numbers(simulator) -> Counter:
    """How many times the SOLAPI simulator received each number."""
    return Counter(m["to"] for m in simulator.control.messages("solapi"))


def run_until_done(rounds: int = 50, **kwargs) -> None:
    for _ in range(rounds):
        result = dispatch.run_round(**kwargs)
        if not result["sent"] and not result["started"]:
            return
