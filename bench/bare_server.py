"""Serve ``bare_app`` with the very gunicorn configuration of ``kmsg-console serve``.

``kmsg_console.server.run_gunicorn`` is called as the console calls it; only the WSGI app its
workers load is swapped, so worker class, threads, timeouts and the access log are identical.
``--workers`` and ``--threads`` take the same shape as ``serve``'s options; one left out takes
``serve``'s default for it (read from the ``serve`` command itself, so the two cannot drift
apart when the default changes). The shape in use is printed first.

    python bench/bare_server.py --port 8100 --workers 2 --threads 4
    python bench/bare_server.py --port 8100            # serve's defaults
"""

from __future__ import annotations

import argparse

import bare_app

from kmsg_console import server


def serve_defaults() -> dict[str, object]:
    """``--workers`` and ``--threads`` of ``kmsg-console serve`` when it is given neither."""
    from kmsg_console.cli import serve

    context = serve.make_context("serve", [], resilient_parsing=True)
    return {name: context.params.get(name) for name in ("workers", "threads")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: serve's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: serve's)")
    args = parser.parse_args()
    if args.host != "127.0.0.1":
        raise SystemExit("the benchmark serves on 127.0.0.1 only")
    server.prepare_metrics_dir()  # as `kmsg-console serve` does (gunicorn's child_exit uses it)
    shape = serve_defaults()
    given = {"workers": args.workers, "threads": args.threads}
    shape.update({name: value for name, value in given.items() if value is not None})
    print(
        f"bare_server: {shape['workers']} workers x {shape['threads']} threads "
        f"(defaults of serve for {[n for n, v in given.items() if v is None] or 'nothing'})",
        flush=True,
    )
    server._ConsoleServer.load = lambda self: bare_app.create_app()  # the only difference
    server.run_gunicorn(host=args.host, port=args.port, **shape)


if __name__ == "__main__":
    main()
