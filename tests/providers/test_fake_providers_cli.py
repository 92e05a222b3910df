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
