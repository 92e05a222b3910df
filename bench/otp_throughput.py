"""OTP start and check throughput through the production server, next to a bare sender.

What is measured, all on 127.0.0.1:

1. ``kmsg-console fake-providers`` (the SOLAPI simulator, no injected latency) runs as its
   own process; its state is cleared before every run.
2. The yardstick: ``bare_app.py`` - a Flask app that only makes the SOLAPI send call with the
   console's own adapter - served by ``bare_server.py`` with exactly the gunicorn settings of
   ``kmsg-console serve``.
3. The console: ``kmsg-console serve`` (gunicorn, same workers and threads) on a fresh
   database, configured the way an operator would: the SOLAPI account saved through the
   providers service (credentials encrypted) and routed for SMS/LMS, the default throttle
   policies created and their limits raised so they never refuse the load (every decision
   is still made and counted), an API key with the ``otp`` scope.
4. ``loadgen.py`` drives both from a separate process with the same concurrency and
   duration: ``POST /api/v1/verifications`` with a new phone number per request, then
   ``POST /api/v1/verifications/<id>/check`` with the right code (read back from the
   simulator's received messages) for the verifications just started.
5. After the load: the peak RSS (``VmHWM``) of every gunicorn worker.

Configurations: ``sqlite`` (the embedded default: no ``KMSG_DATABASE_URL``, keys generated
into the instance folder), ``postgresql`` (SQL throttle counters) and ``postgresql+redis``
(production: PostgreSQL and Redis for throttle counters).

Target: worker peak RSS ≤ 150 MB. The console/bare ratio is reported without a target: the
old ≥ 0.5 at zero vendor latency is retired; ``latency.py`` measures what integrators feel
(throughput and tail latency while the vendor answers in 100-300 ms).

    .venv/bin/python bench/otp_throughput.py
    .venv/bin/python bench/otp_throughput.py --config sqlite --duration 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import common
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
CONSOLE = common.CONSOLE
CONFIGS = common.OTP_CONFIGS
TARGET_RSS_MB = 150
CODE_RE = common.CODE_RE


def loadgen(
    url: str,
    *,
    mode: str,
    args,
    key: str = "",
    pairs_in: Path | None = None,
    pairs_out: Path | None = None,
    phone_base: int = 0,
    cpu_of=None,
) -> dict:
    """Run ``loadgen.py`` once; with ``cpu_of`` (a function naming groups of processes, asked
    after the warm-up), also the CPU each group used while it measured, in ms per success."""
    warmup = args.warmup if mode == "start" else 0.0
    command = [
        sys.executable,
        str(HERE / "loadgen.py"),
        "--url",
        url,
        "--mode",
        mode,
        "--concurrency",
        str(args.concurrency),
        "--duration",
        str(args.duration),
        "--warmup",
        str(warmup),
        "--key",
        key,
        "--phone-base",
        str(phone_base),
    ]
    if pairs_in:
        command += ["--pairs-in", str(pairs_in)]
    if pairs_out:
        command += ["--pairs-out", str(pairs_out)]
    process = subprocess.Popen(  # noqa: S603 - our own script, arguments built above
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=common.ROOT
    )
    time.sleep(warmup)
    meter = common.CpuMeter(cpu_of() if cpu_of else {})
    meter.start()
    out, err = process.communicate()
    used = meter.stop()
    if process.returncode != 0:
        raise RuntimeError(f"loadgen failed: {err[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    used["load generator"] = result["cpu_s"]
    result["cpu_ms"] = {
        name: 1000 * seconds / max(1, result["ok"]) for name, seconds in used.items()
    }
    return result


def worker_rss_mb(master_pid: int) -> list[float]:
    """Peak RSS of each gunicorn worker of ``master_pid``, in MB."""
    return [common.proc_status(pid)["VmHWM"] / 1024 for pid in common.child_pids(master_pid)]


# Moved to common.py (latency.py shares them); the names stay here for the scripts that use them.
Simulator = common.Simulator
BareServer = common.BareServer
configure_console = common.configure_console


def postgres_backends(url: str) -> list[int]:
    """Server processes of the connections to the database of ``url``."""
    name = sa.engine.make_url(url).database
    engine = sa.create_engine(common.require_loopback(common.POSTGRES_ADMIN_URL))
    try:
        with engine.connect() as conn:
            return list(
                conn.scalars(
                    sa.text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            )
    finally:
        engine.dispose()


def check_database(app) -> dict[str, int]:
    """What the console wrote: log rows, attempts, verifications by status."""
    from kmsg_console.extensions import db, dispose_engines
    from kmsg_console.otp.models import Verification
    from kmsg_console.sending.models import MessageAttempt, MessageLog

    with app.app_context():
        counts = {
            "message_log": db.session.scalar(sa.select(sa.func.count()).select_from(MessageLog)),
            "attempts": db.session.scalar(sa.select(sa.func.count()).select_from(MessageAttempt)),
        }
        for status, n in db.session.execute(
            sa.select(Verification.status, sa.func.count()).group_by(Verification.status)
        ):
            counts[f"verifications {status}"] = n
        db.session.remove()
        dispose_engines()
    return counts


def run_config(config: str, procs, sim: Simulator, bare: BareServer, workdir: Path, args) -> dict:
    """Rounds of bare / console OTP starts back to back, then the console's checks."""
    with common.prepared_console(config, workdir, sim) as prepared:
        kind, url, key, folder = prepared.kind, prepared.url, prepared.key, prepared.folder
        app = prepared.app
        shape = common.ServerShape(args.workers, args.threads)
        console = common.ConsoleServer(procs, prepared, shape)
        server = console.process
        try:
            api = console.api

            def console_cpu() -> dict[str, list[int]]:
                groups = {
                    "web workers": common.child_pids(server.pid),
                    "simulator": [sim.process.pid],
                }
                if kind == "postgresql":
                    groups["PostgreSQL"] = postgres_backends(url)
                return groups

            def bare_cpu() -> dict[str, list[int]]:
                return {
                    "web workers": common.child_pids(bare.process.pid),
                    "simulator": [sim.process.pid],
                }

            bare_runs, console_runs, pairs = [], [], []
            for round_number in range(args.rounds):
                sim.clear()
                bare_runs.append(loadgen(bare.url, mode="start", args=args, cpu_of=bare_cpu))
                sim.clear()
                started = folder / f"started-{round_number}.json"
                console_runs.append(
                    loadgen(
                        api,
                        mode="start",
                        args=args,
                        key=key,
                        pairs_out=started,
                        phone_base=10_000_000 * (round_number + 1),
                        cpu_of=console_cpu,
                    )
                )
                codes = sim.codes_by_phone()
                pairs += [
                    [vid, codes[phone]]
                    for vid, phone in json.loads(started.read_text())
                    if phone in codes
                ]
            checks = folder / "checks.json"
            checks.write_text(json.dumps(pairs))
            sim.clear()
            check = loadgen(
                api, mode="check", args=args, key=key, pairs_in=checks, cpu_of=console_cpu
            )
            rss = worker_rss_mb(server.pid)
            bare_rss = worker_rss_mb(bare.process.pid)
        finally:
            procs.stop(server)
        written = check_database(app)
    return {
        "bare": combine(bare_runs),
        "start": combine(console_runs),
        "check": check,
        "rss_mb": rss,
        "bare_rss_mb": bare_rss,
        "written": written,
    }


def combine(runs: list[dict]) -> dict:
    """Several measured runs as one: totals over the summed time, CPU weighted by requests."""
    ok = sum(r["ok"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    cpu: dict[str, float] = {}
    for run in runs:
        for name, ms in run["cpu_ms"].items():
            cpu[name] = cpu.get(name, 0.0) + ms * run["ok"] / max(1, ok)
    statuses: dict[str, int] = {}
    for run in runs:
        for status, n in run["status"].items():
            statuses[status] = statuses.get(status, 0) + n
    return {
        "ok": ok,
        "seconds": seconds,
        "ok_rps": ok / seconds if seconds else 0.0,
        "per_round_rps": [r["ok_rps"] for r in runs],
        "status": statuses,
        "p50_ms": common.median([r["p50_ms"] for r in runs]),
        "p95_ms": max(r["p95_ms"] for r in runs),
        "cpu_ms": cpu,
    }


def cpu_line(result: dict) -> str:
    parts = [f"{name} {ms:.1f}" for name, ms in result["cpu_ms"].items()]
    return f"{sum(result['cpu_ms'].values()):.1f} ms = " + " + ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=[*CONFIGS, "all"], default="all")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per run")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="bare/console start runs, alternated (machine noise hits both)",
    )
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (serve's default)")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker (serve's default)"
    )
    args = parser.parse_args()
    print(common.machine_line())
    print(
        f"load: {args.concurrency} client threads, {args.warmup:.0f} s warm-up + "
        f"{args.duration:.0f} s per run, {args.rounds} rounds of bare then console starts; "
        f"gunicorn {args.workers} workers x {args.threads} threads",
        flush=True,
    )
    configs = CONFIGS if args.config == "all" else (args.config,)
    headers = ["config", "bare start/s", "console start/s", "console/bare", "console check/s",
               "start p50/p95 ms", "worker RSS MB (bare)", "verdict"]  # fmt: skip
    table = common.Table(headers, [])
    with common.temp_dir() as workdir, common.Processes() as procs:
        sim = Simulator(procs, workdir)
        bare = BareServer(procs, sim, workdir, common.ServerShape(args.workers, args.threads))
        for config in configs:
            result = run_config(config, procs, sim, bare, workdir, args)
            print(details(config, result), flush=True)
            table.rows.append(summary_row(config, result))
    print("\n" + table.render())
    print(f"target: worker peak RSS ≤ {TARGET_RSS_MB} MB")


def details(config: str, result: dict) -> str:
    base, start, check = result["bare"], result["start"], result["check"]
    lines = [
        f"bare start: {base['ok_rps']:.1f}/s (rounds {base['per_round_rps']}), "
        f"statuses {base['status']}",
        f"console start: {start['ok_rps']:.1f}/s (rounds {start['per_round_rps']}), statuses "
        f"{start['status']}, p50 {start['p50_ms']:.0f} ms, p95 {start['p95_ms']:.0f} ms",
        f"console check: {check['ok_rps']:.1f}/s over {check['seconds']:.1f} s, "
        f"statuses {check['status']}",
        f"CPU per bare start:    {cpu_line(base)}",
        f"CPU per console start: {cpu_line(start)}",
        f"CPU per console check: {cpu_line(check)}",
        f"rows written: {result['written']}",
        f"worker peak RSS MB: console {[round(r, 1) for r in result['rss_mb']]}, "
        f"bare {[round(r, 1) for r in result['bare_rss_mb']]}",
    ]
    return "\n" + "\n".join(f"[{config}] {line}" for line in lines)


def summary_row(config: str, result: dict) -> list:
    base, start, check = result["bare"], result["start"], result["check"]
    ratio = start["ok_rps"] / base["ok_rps"] if base["ok_rps"] else float("nan")
    rss = max(result["rss_mb"], default=float("nan"))
    bare_rss = max(result["bare_rss_mb"], default=float("nan"))
    ok = rss <= TARGET_RSS_MB
    return [config, base["ok_rps"], start["ok_rps"], ratio, check["ok_rps"],
            f"{start['p50_ms']:.0f}/{start['p95_ms']:.0f}", f"{rss:.0f} ({bare_rss:.0f})",
            "ok" if ok else "MISSED"]  # fmt: skip


if __name__ == "__main__":
    main()
