"""Serving the console with gunicorn, the production WSGI server."""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication


class _ConsoleServer(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        # Each worker builds its own app (and database pool) after the fork.
        from kmsg_console import create_app

        return create_app()


def _post_worker_init(_worker) -> None:
    # Everything alive once the worker has built its app (modules, mappers, compiled
    # statements, the master's inherited heap) lives as long as the worker does. Frozen, the
    # cyclic garbage collector stops walking it on every full collection (in a busy worker
    # those walks were ~10 % of perf's samples; bench/README has what it changed).
    gc.freeze()


def _child_exit(_server, worker) -> None:
    # Drop the metric files of a dead worker (prometheus_client multiprocess mode).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


#: ``<tempdir>/kmsg-metrics-<pid of the serving master>-<random>``.
METRICS_DIR_PREFIX = "kmsg-metrics-"


def prepare_metrics_dir() -> None:
    """Give prometheus_client a private folder so ``/metrics`` sums every worker process.

    Must run before ``prometheus_client`` is first imported (it reads the variable then).
    The folder is removed when the server exits; the folders of servers that were killed
    (no exit handler ran) are swept here, at the next start.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    sweep_dead_metrics_dirs()
    master = os.getpid()
    folder = tempfile.mkdtemp(prefix=f"{METRICS_DIR_PREFIX}{master}-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    atexit.register(lambda: os.getpid() == master and shutil.rmtree(folder, ignore_errors=True))


def sweep_dead_metrics_dirs(parent: str | None = None) -> list[str]:
    """Remove this user's metric folders whose serving process is gone; return their paths.

    Process ids are this host's (this PID namespace's): servers in containers that share one
    temporary directory should each be given ``PROMETHEUS_MULTIPROC_DIR``, which turns this off.
    """
    parent = parent or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        pid_text, _sep, _rest = entry.name.removeprefix(METRICS_DIR_PREFIX).partition("-")
        if not entry.name.startswith(METRICS_DIR_PREFIX) or not pid_text.isdigit():
            continue
        try:
            if (
                not entry.is_dir(follow_symlinks=False)
                or entry.stat(follow_symlinks=False).st_uid != os.getuid()
            ):
                continue
        except OSError:
            continue
        if _alive(int(pid_text)):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


#: Providers a send may go through (the first plus failovers) when sizing the shutdown grace.
SHUTDOWN_CHAIN = 3


def shutdown_grace(connect_timeout: float, read_timeout: float) -> int:
    """Seconds a stopping worker gets to finish its sends before it is killed.

    One send can wait ``connect + read`` at each provider of its chain; killing a worker
    sooner leaves sends in flight (settled later as interrupted, but never finished).
    """
    return max(30, int(SHUTDOWN_CHAIN * (connect_timeout + read_timeout)) + 5)


def run_gunicorn(
    *, host: str, port: int, workers: int, threads: int, graceful_timeout: int = 30
) -> None:
    _ConsoleServer(
        gunicorn_options(
            host=host,
            port=port,
            workers=workers,
            threads=threads,
            graceful_timeout=graceful_timeout,
        )
    ).run()


def gunicorn_options(
    *, host: str, port: int, workers: int, threads: int, graceful_timeout: int = 30
) -> dict[str, Any]:
    """gunicorn's settings for ``kmsg-console serve``."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-",
        # Path only: query strings can carry phone numbers and must not reach logs.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        "timeout": 60,
        "graceful_timeout": graceful_timeout,
        # Several consoles (and test servers) may run on one machine; none needs the
        # shared control socket.
        "control_socket_disable": True,
        "child_exit": _child_exit,
        "post_worker_init": _post_worker_init,
    }
