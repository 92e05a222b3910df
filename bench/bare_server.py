"""Serve ``bare_app`` with the very gunicorn configuration of ``kmsg-console serve``.

``kmsg_console.server.run_gunicorn`` is called as the console calls it; only the WSGI app its
workers load is swapped, so worker class, threads, timeouts and the access log are identical.

    python bench/bare_server.py --port 8100 --workers 2 --threads 4
"""

from __future__ import annotations

import argparse

import bare_app

from kmsg_console import server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if args.host != "127.0.0.1":
        raise SystemExit("the benchmark serves on 127.0.0.1 only")
    server.prepare_metrics_dir()  # as `kmsg-console serve` does (gunicorn's child_exit uses it)
    server._ConsoleServer.load = lambda self: bare_app.create_app()  # the only difference
    server.run_gunicorn(host=args.host, port=args.port, workers=args.workers, threads=args.threads)


if __name__ == "__main__":
    main()
