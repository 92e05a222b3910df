"""``kmsg-console fake-providers``: prints each vendor's base URL and takes other credentials."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from kmsg_console.providers.adapters.config import Timeouts
from kmsg_console.providers.adapters.solapi import SolapiAdapter

LAUNCH = "import sys; from kmsg_console.cli import main; sys.argv[0] = 'kmsg-console'; main()"


def _start(instance, *options: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "fake-providers", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "KMSG_INSTANCE_PATH": str(instance)},
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "/aligo/kakao" in line:
            break
    banner = "".join(lines)
    base = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner).group(1)
    for prefix in ("/solapi", "/iwinv/alimtalk", "/iwinv/sms", "/aligo/sms", "/aligo/kakao"):
        assert base + prefix in banner
    return process, base


def _balance(base: str, key: str, secret: str):
    adapter = SolapiAdapter(
        "solapi-cli",
        {"api_key": key, "api_secret": secret, "base_url": base + "/solapi"},
        timeouts=Timeouts(2, 5),
    )
    try:
        return adapter.get_balance()
    finally:
        adapter.close()


def test_demo_credentials_work_out_of_the_box(tmp_path):
    process, base = _start(tmp_path)
    try:
        assert _balance(base, "demo-api-key", "demo-api-secret").ok
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_other_credentials_replace_the_demo_ones(tmp_path):
    process, base = _start(
        tmp_path, "--solapi-key", "shop-key", "--solapi-secret", "shop-secret-0123456789"
    )
    try:
        assert _balance(base, "shop-key", "shop-secret-0123456789").ok
        refused = _balance(base, "demo-api-key", "demo-api-secret")
        assert not refused.ok and refused.error.code.value == "AUTHENTICATION_FAILED"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_help_documents_every_control_route_and_fault_mode():
    from kmsg_console.providers.simulators import create_simulator_app
    from kmsg_console.providers.simulators.state import FAULT_MODES

    shown = subprocess.run(
        [sys.executable, "-c", LAUNCH, "fake-providers", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = shown.splitlines()
    routes = [
        rule
        for rule in create_simulator_app().url_map.iter_rules()
        if rule.rule.startswith("/_control/") and rule.rule != "/_control/"
    ]
    assert routes
    for rule in routes:
        # A route is documented when a line names one of its methods and its path's fixed
        # part (the docs write optional parts as [/<vendor>] and actions as <a|b|c>).
        fixed = rule.rule.split("<")[0].rstrip("/")
        methods = rule.methods - {"HEAD", "OPTIONS"}
        assert any(
            fixed in line and any(line.lstrip().startswith(m) for m in methods) for line in lines
        ), rule.rule
    for mode in FAULT_MODES:
        assert any(line.split()[:1] == [mode] for line in lines), mode
