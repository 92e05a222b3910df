"""The serving helpers: the metrics folder of a server, and those left by killed servers."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile

from kmsg_console import server


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_sweep_removes_folders_of_dead_servers_only(tmp_path):
    dead = tmp_path / f"kmsg-metrics-{_dead_pid()}-abc"
    live = tmp_path / f"kmsg-metrics-{os.getpid()}-def"
    older_style = tmp_path / "kmsg-metrics-xyz"  # no pid in the name: not ours to judge
    other = tmp_path / "something-else-1"
    for folder in (dead, live, older_style, other):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"x")

    assert server.sweep_dead_metrics_dirs(str(tmp_path)) == [str(dead)]
    assert not dead.exists()
    assert live.exists() and older_style.exists() and other.exists()


def test_prepare_names_the_folder_after_the_server_and_sweeps_first(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(
        server.atexit, "register", lambda fn: None
    )  # this test process keeps running
    stale = tmp_path / f"kmsg-metrics-{_dead_pid()}-old"
    stale.mkdir()

    server.prepare_metrics_dir()

    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    assert os.path.dirname(folder) == str(tmp_path) and os.path.isdir(folder)
    assert os.path.basename(folder).startswith(f"kmsg-metrics-{os.getpid()}-")
    assert not stale.exists()


def test_a_worker_freezes_what_it_built_once_its_app_is_loaded():
    from gunicorn.config import Config

    config = Config()
    for key, value in server.gunicorn_options(
        host="127.0.0.1", port=8000, workers=2, threads=4
    ).items():
        config.set(key, value)  # gunicorn validates each setting (a hook's arity too)
    assert gc.get_freeze_count() == 0
    try:
        config.post_worker_init(None)  # gunicorn calls it in the worker after loading the app
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
