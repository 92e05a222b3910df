"""CPU of one provider call in the web process: the environment read per call vs once.

    .venv/bin/python bench/provider_call.py [--sends 1500] [--rounds 3]

The SOLAPI adapter (the one the console and ``bare_app.py`` use) sends SMS to the SOLAPI
simulator (``kmsg-console fake-providers`` on 127.0.0.1) one after another; the CPU time of
the sending thread per call is measured for two settings of its ``requests`` session,
alternating in one run:

- ``environment per call``: requests' default (``trust_env``), which on every call scans
  the process environment for proxy variables and looks up ``~/.netrc``;
- ``read once``: what the console does (``transport.EnvironmentSettings``): the same proxy
  and CA settings looked up once per adapter, netrc never.

The ratio is the figure; absolute times move with the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bare_app  # noqa: E402
import common  # noqa: E402
import otp_throughput  # noqa: E402

from kmsg_console.messaging.types import Message, MessageType  # noqa: E402


def adapter(base_url: str, *, environment_per_call: bool):
    built = bare_app.solapi_adapter(base_url)
    if environment_per_call:
        built.http.session.trust_env = True  # requests' default
        built.http.environment.proxies_for = lambda url: {}  # leave the lookup to requests
    return built


def cpu_ms_per_send(sender, sends: int) -> float:
    message = Message(type=MessageType.SMS, to="01012345678", text="[kmsg] 인증번호 [123456]")
    start = time.thread_time()
    for _ in range(sends):
        outcome = sender.send(message)
        if not outcome.ok:
            raise SystemExit(f"send failed: {outcome.error}")
    return 1000 * (time.thread_time() - start) / sends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=1500, help="sends per setting and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(common.machine_line())
    with common.temp_dir() as workdir, common.Processes() as procs:
        sim = otp_throughput.Simulator(procs, workdir)
        sim.clear()
        senders = {
            "environment per call": adapter(sim.base + "/solapi", environment_per_call=True),
            "read once": adapter(sim.base + "/solapi", environment_per_call=False),
        }
        for sender in senders.values():
            cpu_ms_per_send(sender, 100)  # warm: connections pooled, code paths loaded
        measured: dict[str, list[float]] = {name: [] for name in senders}
        for _ in range(args.rounds):
            for name, sender in senders.items():
                measured[name].append(cpu_ms_per_send(sender, args.sends))
    per_call = {name: common.median(values) for name, values in measured.items()}
    table = common.Table(
        ["setting", "CPU ms/send (median of rounds)", "rounds"],
        [[name, per_call[name], " ".join(f"{v:.3f}" for v in measured[name])] for name in measured],
    )
    print(table.render())
    print(
        "read once / environment per call: "
        f"{per_call['read once'] / per_call['environment per call']:.2f}"
    )


if __name__ == "__main__":
    main()
