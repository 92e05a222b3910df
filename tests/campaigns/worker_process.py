"""A campaign worker in a process of its own, for the kill and two-worker tests.

    python -m tests.campaigns.worker_process DATABASE_URL INSTANCE_DIR STALE_SECONDS CLAIMS_FILE

It runs the worker's campaign job (``dispatch.run_round``) in a loop, as ``kmsg-console
worker`` does, taking claims older than ``STALE_SECONDS`` as a dead worker's. Every recipient
it claims is appended to ``CLAIMS_FILE`` (one id a line) so a test can tell which process
sent what. ``start_worker`` starts one from a test.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from kmsg_console.campaigns import dispatch
from kmsg_console.campaigns.models import Campaign
from kmsg_console.extensions import db
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]


def start_worker(database_url: str, instance_dir, claims: Path, *, stale_seconds: float):
    return subprocess.Popen(  # noqa: S603 - this test's own worker
        [
            sys.executable,
            "-m",
            "tests.campaigns.worker_process",
            database_url,
            str(instance_dir),
            str(stale_seconds),
            str(claims),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def campaign_status(app, campaign_id: int) -> str:
    with app.app_context():
        status = db.session.scalar(sa.select(Campaign.status).where(Campaign.id == campaign_id))
        db.session.remove()
        return status


def main() -> None:
    database_url, instance_dir, stale_seconds, claims_file = sys.argv[1:5]
    app = make_app(database_url, Path(instance_dir))
    claim = dispatch.claim

    def logged_claim(*args, **kwargs):
        batch = claim(*args, **kwargs)
        with open(claims_file, "a", encoding="utf-8") as out:
            out.write("".join(f"{item.id}\n" for item in batch))
        return batch

    dispatch.claim = logged_claim
    with app.app_context():
        while True:
            if not dispatch.run_round(stale_after=timedelta(seconds=float(stale_seconds)))["sent"]:
                time.sleep(0.2)


if __name__ == "__main__":
    main()
