"""Send-log browsing over a large send log, on SQLite and on PostgreSQL.

What is measured: the console's real views, in-process through Flask's test client as a
signed-in operator (every hook, the login check, the filter form, the query, the template):

- ``/send-logs``: the first page, and a page deep in the result (the cursor the view itself
  makes, pointing 90 % of the way into the matching rows), unfiltered and under every
  common filter (status, error code, vendor code, provider, type, template, source, phone,
  API key, time range) and a few combinations operators use together;
- following the "Older messages" link page after page from the first page;
- ``/send-logs/failures`` for 24 hours, 7 days and 30 days;
- ``/send-logs?campaign=...`` for three campaigns written into the seeded log (a tenth of the
  rows sent within an hour two months back, 1,000 rows a year back, 2 % of the rows today),
  alone and with the status and code the campaign's progress page links to; and that
  page's own count of the campaign's failures by code;
- CSV export of about 100,000 rows (a time range chosen to match just under the export
  limit): total time, rows per second, and the peak memory while it streams.

Each figure is the median server time of ``--repeat`` runs after one warm-up run; the
deep/first ratio is taken within the same run. Targets (2-core machine): ≤ 50 ms per
filtered page on both databases; deep page ≤ 1.5 × first page.

``--explain`` prints the database's plan of each list query (EXPLAIN / EXPLAIN QUERY PLAN)
next to its timing.

    .venv/bin/python bench/send_logs.py                    # 1,000,000 rows, both databases
    .venv/bin/python bench/send_logs.py --rows 100000 --db sqlite
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import common
import seed_send_logs
import sqlalchemy as sa

from kmsg_console.campaigns.models import Campaign
from kmsg_console.extensions import db
from kmsg_console.send_logs import services
from kmsg_console.send_logs.forms import SendLogFilterForm
from kmsg_console.sending.models import MessageLog
from kmsg_console.web.pagination import encode_cursor

TARGET_PAGE_MS = 50.0
TARGET_DEEP_RATIO = 1.5
DEEP_FRACTION = 0.9


@dataclass
class Case:
    name: str
    args: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    matching: int = 0
    deep_cursor: str | None = None
    first_ms: float = float("nan")
    deep_ms: float = float("nan")
    plans: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.deep_ms / self.first_ms if self.first_ms else float("nan")


def pick_values(app) -> dict[str, Any]:
    """Filter values an operator would use: the commonest ones, a rare error code, and the
    top failure group of the last week (what the failure report and dashboard link to)."""
    with app.app_context():

        def top(column, *where):
            query = (
                sa.select(column, sa.func.count().label("n"))
                .where(column.is_not(None), *where)
                .group_by(column)
                .order_by(sa.desc("n"))
            )
            return db.session.execute(query).all()

        errors = top(MessageLog.error_code)
        newest = db.session.scalar(sa.select(sa.func.max(MessageLog.created_at)))
        week = newest - timedelta(days=7)
        group = db.session.execute(
            sa.select(
                MessageLog.error_code,
                MessageLog.vendor_code,
                MessageLog.provider_code,
                MessageLog.type,
                sa.func.count().label("n"),
            )
            .where(
                MessageLog.status == "FAILED",
                MessageLog.created_at >= week,
                MessageLog.vendor_code.is_not(None),
            )
            .group_by(
                MessageLog.error_code,
                MessageLog.vendor_code,
                MessageLog.provider_code,
                MessageLog.type,
            )
            .order_by(sa.desc("n"))
            .limit(1)
        ).one()
        values = {
            "error_code": errors[0][0],
            "rare_error_code": errors[-1][0],
            "vendor_code": top(MessageLog.vendor_code)[0][0],
            "template": top(MessageLog.template_code)[0][0],
            "api_key": str(top(MessageLog.api_key_id)[0][0]),
            "recipient": top(MessageLog.to_hash)[0][0],
            "newest": newest,
            "group": group,
        }
        row = db.session.execute(
            sa.select(MessageLog.public_id, MessageLog.to_enc)
            .where(MessageLog.to_hash == values["recipient"])
            .limit(1)
        ).one()
        values["phone"] = app.config["KEYRING"].decrypt(row.to_enc, f"message:{row.public_id}:to")
    return values


#: The campaigns written into the seeded log: (name, share of the rows, days back, spread).
CAMPAIGNS = (
    ("campaign: 10 % of rows, 2 months back", 0.10, 60, timedelta(hours=1)),
    ("campaign: 1,000 rows, a year back", 1000, 360, timedelta(minutes=10)),
    ("campaign: 2 % of rows, today", 0.02, 0, timedelta(hours=1)),
)


def seed_campaigns(app, rows: int, seed_value: int = 20261207) -> dict[str, str]:
    """Make seeded messages the messages of ``CAMPAIGNS``: random rows (ids spread over the
    year), moved into the campaign's sending window in id order; returns name -> public id."""
    import random

    rng = random.Random(seed_value)
    found: dict[str, str] = {}
    with app.app_context():
        newest = db.session.scalar(sa.select(sa.func.max(MessageLog.created_at)))
        max_id = db.session.scalar(sa.select(sa.func.max(MessageLog.id)))
        taken: set[int] = set()
        for number, (name, share, days_back, spread) in enumerate(CAMPAIGNS, start=1):
            count = int(rows * share) if isinstance(share, float) else min(share, rows // 10)
            campaign = Campaign(
                public_id=f"cmp_bench{number:019d}",
                name=name,
                status="completed",
                rate=500,
                created_by="bench",
                preview={},
            )
            db.session.add(campaign)
            db.session.flush()
            ids = sorted(rng.sample([i for i in range(1, max_id + 1) if i not in taken], count))
            taken.update(ids)
            start = newest - timedelta(days=days_back) - spread
            step = spread / count
            table = MessageLog.__table__
            db.session.connection().execute(
                table.update()
                .where(table.c.id == sa.bindparam("mid"))
                .values(campaign_id=campaign.id, source="campaign", created_at=sa.bindparam("at")),
                [{"mid": i, "at": start + step * k} for k, i in enumerate(ids)],
            )
            found[name] = campaign.public_id
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return found


def campaign_cases(app, campaigns: dict[str, str]) -> list[Case]:
    cases = [Case(name, {"campaign": public_id}) for name, public_id in campaigns.items()]
    big = next(iter(campaigns.values()))
    with app.app_context():
        campaign_id = db.session.scalar(sa.select(Campaign.id).where(Campaign.public_id == big))
        code = db.session.execute(
            sa.select(MessageLog.error_code, sa.func.count().label("n"))
            .where(MessageLog.campaign_id == campaign_id, MessageLog.status == "FAILED")
            .group_by(MessageLog.error_code)
            .order_by(sa.desc("n"))
            .limit(1)
        ).first()
    cases.append(Case("campaign: 10 % + status=UNKNOWN", {"campaign": big, "status": "UNKNOWN"}))
    if code is not None:
        cases.append(
            Case(
                f"campaign: 10 % + FAILED + {code[0]} (progress page link)",
                {"campaign": big, "status": "FAILED", "error_code": code[0]},
            )
        )
    return cases


def cases_for(values: dict[str, Any]) -> list[Case]:
    def local(moment) -> str:
        return moment.astimezone(seed_send_logs.SEOUL).strftime(services.LOCAL_INPUT_FORMAT)

    newest = values["newest"]
    week = {
        "since": local(newest - timedelta(days=7)),
        "until": local(newest + timedelta(minutes=1)),
    }
    error_code, vendor_code, provider, message_type, _n = values["group"]
    return [
        # one filter at a time
        Case("all messages", {}),
        Case("status=FAILED", {"status": "FAILED"}),
        Case(f"error_code={values['error_code']}", {"error_code": values["error_code"]}),
        Case(
            f"error_code={values['rare_error_code']} (rare)",
            {"error_code": values["rare_error_code"]},
        ),
        Case(f"vendor_code={values['vendor_code']}", {"vendor_code": values["vendor_code"]}),
        Case("provider=iwinv-main", {"provider": "iwinv-main"}),
        Case("type=ALIMTALK", {"type": "ALIMTALK"}),
        Case(f"template={values['template']}", {"template": values["template"]}),
        Case("source=otp", {"source": "otp"}),
        Case("phone (recipient link)", {"recipient": values["recipient"]}),
        Case("phone typed (htmx)", {"phone": values["phone"]}, {"HX-Request": "true"}),
        Case(f"api_key={values['api_key']}", {"api_key": values["api_key"]}),
        Case(
            "time range (7 days, 4 months ago)",
            {
                "since": local(newest - timedelta(days=120)),
                "until": local(newest - timedelta(days=113)),
            },
        ),
        # what the failure report and the dashboard link to
        Case(
            "failure report row (7 days)",
            {
                "status": "FAILED",
                "error_code": error_code,
                "vendor_code": vendor_code,
                "provider": provider,
                **week,
            },
        ),
        Case(
            "failure report vendor code (7 days)",
            {
                "status": "FAILED",
                "provider": provider,
                "vendor_code": vendor_code,
                "type": message_type,
                **week,
            },
        ),
        Case(
            "dashboard: failed by code (7 days)",
            {"status": "FAILED", "error_code": error_code, **week},
        ),
        Case(
            "dashboard: attempted=provider (7 days)",
            {"attempted": provider, "since": week["since"]},
        ),
        Case(
            "dashboard: attempt not accepted at provider (24 hours)",
            {
                "attempted": provider,
                "attempt_outcome": "not_accepted",
                "since": local(newest - timedelta(days=1)),
            },
        ),
        # an attempt's outcome, anywhere; "unknown" is the rare one
        Case("attempt_outcome=failed", {"attempt_outcome": "failed"}),
        Case("attempt_outcome=unknown (rare)", {"attempt_outcome": "unknown"}),
        # every provider a message went through, failover included
        Case("attempted=solapi-main", {"attempted": "solapi-main"}),
        Case(
            "attempted=iwinv-main + provider=solapi-main (failed over)",
            {"attempted": "iwinv-main", "provider": "solapi-main"},
        ),
        # other combinations
        Case("status=FAILED + provider", {"status": "FAILED", "provider": "solapi-main"}),
        Case("type=ALIMTALK + status=FAILED", {"type": "ALIMTALK", "status": "FAILED"}),
    ]


#: Not a target: two broad filters whose intersection is empty, without a time range. No index
#: serves the pair, so the database reads one filter's whole index range to find nothing.
WORST_CASE = Case(
    "provider=aligo-main + type=FRIENDTALK (no match)",
    {"provider": "aligo-main", "type": "FRIENDTALK"},
)


def filters_of(app, case: Case):
    """The case's query string as the view turns it into filters."""
    from flask import request

    with app.test_request_context("/send-logs", query_string=case.args):
        form = SendLogFilterForm(request.args)
        assert form.validate(), form.errors
        return form.filters()


def prepare_case(app, case: Case) -> None:
    """Count the matches and build the deep cursor exactly as the view encodes one."""
    filters = filters_of(app, case)
    with app.app_context():
        case.matching = db.session.scalar(
            sa.select(sa.func.count()).select_from(services.filtered_query(filters).subquery())
        )
        depth = int(case.matching * DEEP_FRACTION)
        row = db.session.execute(
            services.filtered_query(filters)
            .with_only_columns(MessageLog.created_at, MessageLog.id)
            .order_by(MessageLog.created_at.desc(), MessageLog.id.desc())
            .offset(depth)
            .limit(1)
        ).first()
        case.deep_cursor = encode_cursor(row.created_at, row.id) if row else None


class QueryLog:
    """The message_log SELECTs one request runs (for --explain)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, parameters, _context, _many):
        if "FROM message_log" in statement and statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, parameters))

    def plans(self) -> list[str]:
        out = []
        dialect = self.engine.dialect.name
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            for statement, parameters in self.statements:
                prefix = (
                    "EXPLAIN (ANALYZE, BUFFERS) "
                    if dialect == "postgresql"
                    else "EXPLAIN QUERY PLAN "
                )
                cursor = raw.execute(prefix + statement, parameters)
                rows = cursor.fetchall()
                if dialect == "postgresql":
                    out.append("\n".join(r[0] for r in rows))
                else:
                    out.append("\n".join(str(r[-1]) for r in rows))
        return out


def get(client, path: str, args: dict[str, str], headers: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    response = client.get(path, query_string=args, headers=headers or {})
    response.get_data()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} {args}: HTTP {response.status_code}")
    return elapsed


def measure(client, path, args, repeat, headers=None) -> float:
    get(client, path, args, headers)  # warm-up: caches, prepared statements
    return common.median([get(client, path, args, headers) for _ in range(repeat)])


def measure_pair(client, path, first_args, deep_args, repeat, headers=None) -> tuple[float, float]:
    """Medians of the first and the deep page, timed alternately so that machine noise
    (other processes, a GC pause) falls on both alike and their ratio stays fair."""
    get(client, path, first_args, headers)
    get(client, path, deep_args, headers)
    first, deep = [], []
    for _ in range(repeat):
        first.append(get(client, path, first_args, headers))
        deep.append(get(client, path, deep_args, headers))
    return common.median(first), common.median(deep)


def follow_pages(client, pages: int) -> tuple[float, float, int]:
    """Follow "Older messages" from the first page; (median ms page 1, pages 2.., depth)."""
    import re

    args: dict[str, str] = {}
    times = []
    for _ in range(pages):
        start = time.perf_counter()
        response = client.get("/send-logs", query_string=args)
        body = response.get_data(as_text=True)
        times.append((time.perf_counter() - start) * 1000)
        match = re.search(r'href="/send-logs\?cursor=([^"&]+)"', body)
        if match is None:
            break
        args = {"cursor": match.group(1)}
    return times[0], common.median(times[1:]), len(times)


def export_run(client, args: dict[str, str]) -> dict[str, float]:
    """Stream the CSV export once; time, rows, bytes and peak RSS growth while streaming."""
    gc.collect()
    before = common.proc_status()["VmRSS"]
    common.reset_peak_rss()
    start = time.perf_counter()
    response = client.get("/send-logs/export.csv", query_string=args, buffered=False)
    if response.status_code != 200:
        raise RuntimeError(f"export: HTTP {response.status_code}")
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    response.close()
    elapsed = time.perf_counter() - start
    peak = common.proc_status()["VmHWM"]
    return {
        "seconds": elapsed,
        "rows": lines - 1,
        "bytes": size,
        "rss_before_mb": before / 1024,
        "rss_peak_mb": peak / 1024,
        "rss_growth_mb": (peak - before) / 1024,
    }


def export_python_peak(client, args: dict[str, str]) -> float:
    """Peak Python heap (tracemalloc) while the export streams, in MB (a separate, slower run)."""
    gc.collect()
    tracemalloc.start()
    response = client.get("/send-logs/export.csv", query_string=args, buffered=False)
    for _chunk in response.response:
        pass
    response.close()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def export_in_child(
    url: str, instance: Path, keys: dict[str, str], email: str, args: dict[str, str], repeat: int
) -> dict[str, Any]:
    """Run the exports in a process that does nothing else, so its memory is the export's own
    (this process holds whatever the seeding left in its allocator)."""
    spec = {
        "url": url,
        "instance": str(instance),
        "keys": keys,
        "email": email,
        "password": common.OPERATOR_PASSWORD,
        "args": args,
        "repeat": repeat,
    }
    done = subprocess.run(  # noqa: S603 - this very script
        [sys.executable, __file__, "--export-child"],
        capture_output=True,
        text=True,
        env={**os.environ, "KMSG_BENCH_EXPORT": json.dumps(spec)},
        cwd=common.ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"export child failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def export_child() -> None:
    """``--export-child``: sign in, export once to warm up, then time ``repeat`` exports, each
    with the peak RSS reset first; finally one run under tracemalloc for the Python heap."""
    spec = json.loads(os.environ["KMSG_BENCH_EXPORT"])
    app = common.make_app(spec["url"], Path(spec["instance"]), spec["keys"])
    client = app.test_client()
    common.login(client, spec["email"], spec["password"])
    export_run(client, spec["args"])
    runs = [export_run(client, spec["args"]) for _ in range(spec["repeat"])]
    print(json.dumps({"runs": runs, "heap_mb": export_python_peak(client, spec["args"])}))


def export_args(app, limit: int) -> dict[str, str]:
    """A ``since`` (local minute) matching just under ``limit`` rows (the export limit)."""
    with app.app_context():
        moment = db.session.scalar(
            sa.select(MessageLog.created_at)
            .order_by(MessageLog.created_at.desc(), MessageLog.id.desc())
            .offset(limit - 1)
            .limit(1)
        )
        if moment is None:  # a small seed: export everything
            moment = db.session.scalar(sa.select(sa.func.min(MessageLog.created_at))) - timedelta(
                minutes=2
            )
    local = moment.astimezone(seed_send_logs.SEOUL).replace(second=0, microsecond=0) + timedelta(
        minutes=1
    )
    return {"since": local.strftime(services.LOCAL_INPUT_FORMAT)}


def run(
    kind: str,
    rows: int,
    repeat: int,
    explain: bool,
    pages: int,
    export_repeat: int,
    only: str | None = None,
) -> dict[str, Any] | None:
    from kmsg_console.send_logs.export import EXPORT_LIMIT

    print(f"\n=== {kind}: {rows:,} messages ===", flush=True)
    with common.temp_dir() as workdir, common.database(kind, workdir) as url:
        keys = common.fresh_keys()
        seeding_app = common.make_app(url, workdir / "instance", keys)
        common.migrate(seeding_app)
        email = common.create_operator(seeding_app)
        result = seed_send_logs.seed(seeding_app, rows, operator_email=email)
        print(
            f"seeded {result.rows:,} messages, {result.attempts:,} attempts, "
            f"{result.events:,} events in {result.seconds:.0f} s "
            f"({result.rows / result.load_seconds:,.0f} messages/s; "
            f"indexes + ANALYZE {result.index_seconds:.0f} s)",
            flush=True,
        )

        app = common.make_app(url, workdir / "instance", keys)
        client = app.test_client()
        common.login(client, email)
        values = pick_values(app)
        started = time.perf_counter()
        campaigns = seed_campaigns(seeding_app, result.rows)
        print(f"campaigns written in {time.perf_counter() - started:.0f} s", flush=True)
        cases = cases_for(values) + campaign_cases(app, campaigns)
        table = common.Table(
            ["request", "rows", "first ms", "deep ms", "deep/first", "verdict"], []
        )
        with app.app_context():
            engine = db.engine
        worst = Case(WORST_CASE.name, dict(WORST_CASE.args))
        selected = (
            [*cases, worst] if only is None else [c for c in [*cases, worst] if only in c.name]
        )
        for case in selected:
            prepare_case(app, case)
            if case.deep_cursor:
                deep_args = {**case.args, "cursor": case.deep_cursor}
                case.first_ms, case.deep_ms = measure_pair(
                    client, "/send-logs", case.args, deep_args, repeat, case.headers
                )
            else:
                case.first_ms = measure(client, "/send-logs", case.args, repeat, case.headers)
            slowest = max(case.first_ms, case.deep_ms) if case.deep_cursor else case.first_ms
            ok = slowest <= TARGET_PAGE_MS and not case.ratio > TARGET_DEEP_RATIO
            verdict = "ok" if ok else "MISSED"
            table.rows.append(
                [
                    case.name,
                    f"{case.matching:,}",
                    case.first_ms,
                    case.deep_ms,
                    case.ratio,
                    verdict if case is not worst else f"({verdict}; not a target)",
                ]
            )
            if explain:
                for label, extra in (("first", {}), ("deep", {"cursor": case.deep_cursor})):
                    if label == "deep" and not case.deep_cursor:
                        continue
                    with QueryLog(engine) as log:
                        client.get(
                            "/send-logs", query_string={**case.args, **extra}, headers=case.headers
                        )
                    for plan in log.plans()[-1:]:
                        case.plans.append(f"[{case.name} / {label}]\n{plan}")
        print(table.render(), flush=True)
        if only is None or "campaign" in only:
            # The campaign's progress fragment (polled every 2 s) counts its FAILED and
            # UNKNOWN messages by code from the send log.
            big = next(iter(campaigns.values()))
            progress_ms = measure(client, f"/campaigns/{big}/progress", {}, repeat)
            print(
                f"/campaigns/<10 % campaign>/progress: {progress_ms:.1f} ms "
                f"({common.verdict(progress_ms, TARGET_PAGE_MS)})",
                flush=True,
            )
        if explain:
            for case in selected:
                for plan in case.plans:
                    print("\n" + plan)
        if only is not None:
            return None  # the list cases asked for, nothing else

        first, followed, depth = follow_pages(client, pages)
        print(
            f"\nfollowing 'Older messages' {depth} pages from the first: page 1 {first:.1f} ms, "
            f"pages 2-{depth} median {followed:.1f} ms (ratio {followed / first:.2f})",
            flush=True,
        )

        failures = common.Table(["request", "median ms", "verdict"], [])
        for period in ("24h", "7d", "30d"):
            try:
                ms = measure(client, "/send-logs/failures", {"period": period}, repeat)
            except RuntimeError as exc:  # report a broken page instead of losing the run
                print(f"  {exc}", flush=True)
                ms = float("nan")
            failures.rows.append(
                [
                    f"/send-logs/failures?period={period}",
                    ms,
                    common.verdict(ms, TARGET_PAGE_MS) if ms == ms else "ERROR",
                ]
            )
        # The dashboard reads the last seven days of the same table (not a stated target).
        dashboard_ms = measure(client, "/", {}, repeat)
        failures.rows.append(["/ (dashboard, 7 days)", dashboard_ms, "(not a target)"])
        print(failures.render(), flush=True)

        args = export_args(app, EXPORT_LIMIT)
        exported = export_in_child(url, workdir / "instance", keys, email, args, export_repeat)
        runs, heap = exported["runs"], exported["heap_mb"]
        best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        print(
            f"\nCSV export of {best['rows']:,} rows ({best['bytes'] / 1e6:.1f} MB), in a process "
            f"of its own: median {best['seconds']:.2f} s = "
            f"{best['rows'] / best['seconds']:,.0f} rows/s; "
            f"RSS {best['rss_before_mb']:.0f} MB before streaming, peak "
            f"{max(r['rss_peak_mb'] for r in runs):.0f} MB while streaming (+"
            f"{max(r['rss_growth_mb'] for r in runs):.1f} MB); peak Python heap {heap:.1f} MB",
            flush=True,
        )
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
        with seeding_app.app_context():
            for engine in db.engines.values():
                engine.dispose()
        worst = max(max(c.first_ms, c.deep_ms) if c.deep_cursor else c.first_ms for c in cases)
        worst_ratio = max(c.ratio for c in cases if c.deep_cursor)
        return {
            "kind": kind,
            "worst_page_ms": worst,
            "worst_ratio": worst_ratio,
            "failures_ms": [r[1] for r in failures.rows if r[0].startswith("/send-logs")],
            "dashboard_ms": dashboard_ms,
            "export_s": best["seconds"],
            "export_rows": best["rows"],
            "export_rss_mb": max(r["rss_peak_mb"] for r in runs),
            "export_growth_mb": max(r["rss_growth_mb"] for r in runs),
            "export_heap_mb": heap,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=[*common.BACKENDS, "both"], default="both")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per request (median)")
    parser.add_argument("--pages", type=int, default=100, help="pages to follow with the cursor")
    parser.add_argument("--export-repeat", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="print each list query's plan")
    parser.add_argument(
        "--cases",
        metavar="TEXT",
        help="only the list cases whose name contains TEXT (no pages, report or export)",
    )
    parser.add_argument("--export-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child()
        return
    print(common.machine_line())
    kinds = common.BACKENDS if args.db == "both" else (args.db,)
    summaries = [
        run(k, args.rows, args.repeat, args.explain, args.pages, args.export_repeat, args.cases)
        for k in kinds
    ]
    if args.cases is not None:
        return
    print("\n=== summary ===")
    table = common.Table(
        [
            "database",
            "worst list page ms",
            "worst deep/first",
            "failures 24h/7d/30d ms",
            "CSV export s (rows)",
            "export peak RSS MB (growth)",
            "verdict",
        ],
        [],
    )
    for s in summaries:
        ok = (
            s["worst_page_ms"] <= TARGET_PAGE_MS
            and s["worst_ratio"] <= TARGET_DEEP_RATIO
            and all(ms <= TARGET_PAGE_MS for ms in s["failures_ms"])
        )
        table.rows.append(
            [
                s["kind"],
                s["worst_page_ms"],
                s["worst_ratio"],
                "/".join(f"{ms:.0f}" for ms in s["failures_ms"]),
                f"{s['export_s']:.2f} ({s['export_rows']:,})",
                f"{s['export_rss_mb']:.0f} (+{s['export_growth_mb']:.1f})",
                "ok" if ok else "MISSED",
            ]
        )
    print(table.render())
    print(f"targets: every page ≤ {TARGET_PAGE_MS:.0f} ms, deep/first ≤ {TARGET_DEEP_RATIO}")


if __name__ == "__main__":
    main()
