"""Campaigns: upload and preview of a large recipient file, and dispatch through the send
engine against the SOLAPI simulator, next to the simulator's direct rate.

What is measured, per database (SQLite file, fresh PostgreSQL database):

- **upload + preview**: ``services.create_draft`` reading a ``--rows`` CSV (default 100,000:
  ``phone`` and one variable column) as a stream and writing every recipient, then the
  commit; seconds, and the peak RSS of this process during it (``VmHWM`` reset before);
- **dispatch**: a ``--dispatch``-recipient campaign (default 5,000) sent by the worker's job
  (``dispatch.run_round`` in this process, as the worker runs it) through the SOLAPI
  simulator, with the rate ceiling lifted so the engine, not the pacing, is measured;
  messages per second and the peak RSS during it;
- **direct**: the same number of messages sent by the SOLAPI adapter alone in the same
  send-many batches (``dispatch.group_size`` at an unlimited rate: 100 a request), one request
  after another, no database: the simulator's direct rate on this machine in this run.

- **direct, one a request**: the adapter sending up to 1,000 of them one message a request,
  as campaigns sent before send-many batching (context, not a target).

The ratio dispatch ÷ direct is the figure to compare across runs (target ≥ 0.7 on
PostgreSQL); absolute times move with the machine's load.

    .venv/bin/python bench/campaigns.py                       # both databases (~3 min)
    .venv/bin/python bench/campaigns.py --db sqlite --rows 20000 --dispatch 500
    .venv/bin/python bench/campaigns.py --only preview        # upload + preview alone
"""

from __future__ import annotations

import argparse
import io
import time

import common

from kmsg_console.campaigns import dispatch, services, upload
from kmsg_console.campaigns.models import Campaign
from kmsg_console.extensions import db
from kmsg_console.messaging.types import Message, MessageType

TARGET_RATIO = 0.7
PREVIEW_TARGET_S = 10.0
PREVIEW_RSS_TARGET_MB = 250


def _csv(rows: int) -> io.BytesIO:
    lines = ["phone,이름"] + [f"010{60000000 + i:08d},고객{i}" for i in range(rows)]
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def _upload(app, rows: int) -> tuple[float, float, int]:
    data = _csv(rows)
    with app.test_request_context():
        common.reset_peak_rss()
        start = time.perf_counter()
        campaign = services.create_draft(
            name="bench upload",
            text="#{이름}님, 12월 점검 안내입니다.",
            rows=upload.read_csv(data),
            actor_label="bench",
        )
        db.session.commit()
        seconds = time.perf_counter() - start
        peak = common.proc_status()["VmHWM"] / 1024
        return seconds, peak, campaign.preview["to_send"]


def _dispatch(app, count: int) -> tuple[float, float]:
    services.VENDOR_MAX_RATE["solapi"] = 100_000  # measure the engine, not the pacing
    with app.test_request_context():
        campaign = services.create_draft(
            name="bench dispatch",
            text="점검 안내입니다.",
            rate=100_000,
            rows=upload.read_csv(_csv(count)),
            actor_label="bench",
        )
        services.confirm(campaign, actor_label="bench")
        db.session.commit()
        campaign_id = campaign.id
    with app.app_context():
        common.reset_peak_rss()
        start = time.perf_counter()
        while True:
            result = dispatch.run_round()
            if not result["sent"]:
                break
        seconds = time.perf_counter() - start
        progress = services.progress(db.session.get(Campaign, campaign_id))
        assert progress.sent == count, progress
        db.session.remove()
    return count / seconds, common.proc_status()["VmHWM"] / 1024


def _message(number: int) -> Message:
    return Message(
        type=MessageType.SMS, to=f"010{number:08d}", text="점검 안내입니다.", from_="0212345678"
    )


def _direct(app, count: int) -> float:
    """The SOLAPI adapter alone sending the same messages in the same batches (the size
    dispatch uses when the rate is no limit), one request after the other."""
    from kmsg_console.providers import services as providers

    size = dispatch.group_size(100_000)
    with app.app_context():
        adapter = providers.adapter_for(providers.get_by_code("solapi-main"))
        start = time.perf_counter()
        for first in range(0, count, size):
            outcomes = adapter.send_many(
                [_message(70_000_000 + i) for i in range(first, min(count, first + size))]
            )
            assert all(outcome.ok for outcome in outcomes), outcomes
        return count / (time.perf_counter() - start)


def _direct_one_by_one(app, count: int) -> float:
    """The same adapter sending one message a request: the vendor path before batching."""
    from kmsg_console.providers import services as providers

    with app.app_context():
        adapter = providers.adapter_for(providers.get_by_code("solapi-main"))
        start = time.perf_counter()
        for i in range(count):
            outcome = adapter.send(_message(80_000_000 + i))
            assert outcome.ok, outcome
        return count / (time.perf_counter() - start)


def run(kind: str, rows: int, count: int, table: common.Table, only: str | None = None) -> None:
    with common.temp_dir() as workdir, common.database(kind, workdir) as url:
        with common.Processes() as procs:
            sim = common.Simulator(procs, workdir)
            sim.clear()
            app = common.make_app(url, workdir / "instance", common.fresh_keys())
            common.migrate(app)
            common.configure_console(app, sim)
            seconds, peak, to_send = _upload(app, rows)
            table.rows.append(
                [
                    kind,
                    f"upload+preview {to_send} rows",
                    seconds,
                    peak,
                    common.verdict(seconds, PREVIEW_TARGET_S),
                ]
            )
            if only == "preview":
                return
            rate, dispatch_peak = _dispatch(app, count)
            direct = _direct(app, count)
            table.rows.append([kind, f"dispatch {count} (msg/s)", rate, dispatch_peak, ""])
            table.rows.append([kind, f"direct {count} (msg/s)", direct, "", ""])
            single = _direct_one_by_one(app, min(count, 1000))
            table.rows.append([kind, "direct, one a request (msg/s)", single, "", ""])
            ratio = rate / direct
            table.rows.append(
                [
                    kind,
                    "dispatch ÷ direct",
                    ratio,
                    "",
                    common.verdict(ratio, TARGET_RATIO, higher_is_better=True),
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dispatch", type=int, default=5_000)
    parser.add_argument(
        "--only",
        choices=["preview"],
        help="measure upload + preview alone (no dispatch, no direct sends)",
    )
    args = parser.parse_args()
    print(common.machine_line())
    table = common.Table(["db", "measure", "value", "peak RSS MB", "target"], [])
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        run(kind, args.rows, args.dispatch, table, args.only)
    print(table.render())


if __name__ == "__main__":
    main()
