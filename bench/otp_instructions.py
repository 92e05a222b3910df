"""Instructions per OTP start, console against the bare provider call: noise cannot move them.

``otp_throughput.py`` measures the acceptance figure (requests per second through gunicorn),
but on a shared machine two runs a minute apart differ by 20 % in speed, and a change worth
5 % cannot be seen in it. Instructions executed do not depend on the machine's speed: run
under valgrind's callgrind, the same code on the same input executes the same count, give or
take a fraction of a percent, whatever else the machine is doing.

What is counted: each app in its own process under ``valgrind --tool=callgrind`` (counting
switched off during start-up and warm-up, on only while the measured requests run), calling
the SOLAPI simulator (``kmsg-console fake-providers``, a separate process, not counted)
through Flask's test client (no HTTP server: what gunicorn adds is the same for both apps):

- ``bare``: ``bare_app.py``, the same SOLAPI send call and nothing else;
- ``console``: ``POST /api/v1/verifications`` on a fresh database (``--db``), configured as
  ``otp_throughput.py`` configures it (API key, routing, throttle policies that never refuse).

The ratio bare/console is the share of the console's per-start work that the bare call is. It
is not the throughput ratio (there, the simulator's and the client's CPU, the same for both,
sit on both sides and narrow the gap), but it moves with the console's own cost, so before
and after a change it tells what the change did. Needs valgrind (Debian's package) and takes
about a minute per app.

    .venv/bin/python bench/otp_instructions.py
    .venv/bin/python bench/otp_instructions.py --db postgresql --starts 200
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import common
import otp_profile
import otp_throughput

HERE = Path(__file__).resolve().parent
WARMUP = 30


def child(args) -> None:
    """Set up one app, warm it up, then run the measured requests when told to."""
    if args.child == "bare":
        os.environ["KMSG_BENCH_SOLAPI_URL"] = args.sim + "/solapi"
        import bare_app

        client = bare_app.create_app().test_client()

        def send(n: int) -> None:
            response = client.post("/verifications", json={"phone": f"0109{n:07d}"})
            if response.status_code != 201:
                raise SystemExit(f"bare answered {response.status_code}")

        measure(send, args.starts)
        return

    sim = argparse.Namespace(base=args.sim)
    with (
        common.temp_dir() as workdir,
        otp_profile.console_client(args.db, workdir, sim) as (_, start),
    ):
        measure(start, args.starts)


def measure(send, starts: int) -> None:
    for n in range(WARMUP):
        send(n)
    print("ready", flush=True)
    sys.stdin.readline()  # the parent has switched counting on
    for n in range(WARMUP, WARMUP + starts):
        send(n)
    print("done", flush=True)
    sys.stdin.readline()  # ... and off again


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is not installed (apt-get install valgrind)")
    return path


def count(kind: str, args, sim: otp_throughput.Simulator, workdir: Path) -> int:
    """Instructions the ``kind`` app executed over ``args.starts`` requests."""
    out = workdir / f"callgrind.{kind}.out"
    process = subprocess.Popen(  # noqa: S603 - valgrind running this script
        [
            tool("valgrind"),
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            kind,
            "--sim",
            sim.base,
            "--db",
            args.db,
            "--starts",
            str(args.starts),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=HERE.parent,
    )
    try:
        for expected in ("ready", "done"):
            line = process.stdout.readline().strip()
            if line != expected:
                raise SystemExit(f"[{kind}] expected {expected!r}, got {line!r}")
            switch = "on" if expected == "ready" else "off"
            subprocess.run(  # noqa: S603 - valgrind's own control tool
                [tool("callgrind_control"), "-i", switch, str(process.pid)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            process.stdin.write("\n")
            process.stdin.flush()
        process.wait(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    total = 0
    for dump in workdir.glob(f"callgrind.{kind}.out*"):
        for line in dump.read_text().splitlines():
            if line.startswith("totals:"):  # ("summary:" covers the whole run, counting or not)
                total += int(line.split()[1])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--starts", type=int, default=200, help="measured requests per app")
    parser.add_argument("--child", choices=["bare", "console"], help=argparse.SUPPRESS)
    parser.add_argument("--sim", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    tool("valgrind")
    print(common.machine_line())
    with common.temp_dir() as workdir, common.Processes() as procs:
        sim = otp_throughput.Simulator(procs, workdir)
        sim.clear()
        per_request = {
            kind: count(kind, args, sim, workdir) / args.starts for kind in ("bare", "console")
        }
    table = common.Table(
        ["app", "requests", "instructions/request (M)"],
        [
            ["bare", args.starts, per_request["bare"] / 1e6],
            [f"console ({args.db})", args.starts, per_request["console"] / 1e6],
        ],
    )
    print(table.render())
    print(f"bare/console: {per_request['bare'] / per_request['console']:.3f}")


if __name__ == "__main__":
    main()
