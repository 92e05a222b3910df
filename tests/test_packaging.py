"""The built wheel carries its resources, and an installed copy serves from any directory."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
    )
    (built,) = out.glob("kmsg_console-*.whl")
    return built


def test_wheel_contains_templates_static_and_migrations(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "kmsg_console/templates/base.html" in names
    assert "kmsg_console/static/vendor/htmx.min.js" in names
    assert "kmsg_console/migrations/env.py" in names
    assert any(n.startswith("kmsg_console/migrations/versions/") for n in names)
    assert "kmsg_console/translations/ko/LC_MESSAGES/messages.mo" in names


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_installed_copy_serves_from_another_directory(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMSG_")}
    env.update(
        KMSG_INSTANCE_PATH=str(tmp_path / "instance"),
        KMSG_ADMIN_EMAIL="first@example.com",
        KMSG_ADMIN_PASSWORD="first admin password",
    )
    server = subprocess.Popen(
        [str(env_dir / "bin" / "kmsg-console"), "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.25)
        else:
            pytest.fail("server did not start: " + server.stdout.read1().decode(errors="replace"))
        session = requests.Session()
        login_page = session.get(base + "/login", timeout=5)
        assert login_page.status_code == 200
        assert login_page.headers["Server"].startswith("gunicorn")
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', login_page.text
        ).group(1)
        response = session.post(
            base + "/login",
            data={
                "csrf_token": token,
                "email": "first@example.com",
                "password": "first admin password",
            },
            allow_redirects=False,
            timeout=5,
        )
        assert response.status_code == 302 and response.headers["Location"] == "/"
        assert session.get(base + "/operators", timeout=5).status_code == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
