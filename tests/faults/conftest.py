"""A console with two real providers and failover, both on simulators, driven through the API.

SOLAPI (provider ``solapi``) is the primary, IWINV SMS (provider ``iwinv``) the secondary,
for SMS and LMS. Each runs on a simulator server of its own, so one vendor can go down
(connections refused) while the other keeps answering. Every message goes to a number of
its own; :mod:`tests.faults.truth` matches log rows to what the simulators received.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.otp.models import VerificationPurpose
from kmsg_console.otp.services import ensure_default_purposes
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.simulators import SimulatorOptions, SimulatorServer
from tests.faults import truth

SENDER = "0212345678"
#: Short timeouts keep timeout scenarios quick; the simulators are on loopback.
CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 1.0
#: Longer than READ_TIMEOUT: the vendor is still working when the console gives up.
SLOWER_THAN_READ_TIMEOUT_MS = 2_500
VENDOR_OF = {"solapi": "solapi", "iwinv": "iwinv_sms"}

_numbers = itertools.count(1)


def new_phone() -> str:
    """A recipient number no other message of the session uses (010-2xxx-xxxx)."""
    return f"0102{next(_numbers):07d}"


def provider_values(provider: str, sim: SimulatorServer) -> dict[str, Any]:
    if provider == "solapi":
        return {
            "api_key": "demo-api-key",
            "api_secret": "demo-api-secret",
            "default_from": SENDER,
            "base_url": sim.url("solapi"),
        }
    return {
        "sms_api_key": "demo-sms-key",
        "sms_auth_key": "demo-sms-auth",
        "sender_number": SENDER,
        "sms_base_url": sim.url("iwinv_sms"),
        "alimtalk_base_url": sim.url("iwinv_alimtalk"),
    }


def configure(app, sims: dict[str, SimulatorServer], chain: list[str], *, values=None) -> str:
    """Save both providers, route SMS/LMS through ``chain``; returns a send+otp API key."""
    with app.test_request_context():
        for code in ("solapi", "iwinv"):
            provider_services.save_provider(
                None,
                vendor="solapi" if code == "solapi" else "iwinv",
                code=code,
                name=code,
                values={**provider_values(code, sims[code]), **((values or {}).get(code) or {})},
                enabled=True,
                actor=None,
            )
        provider_services.save_routes({"SMS": chain, "LMS": chain}, actor=None)
        ensure_default_purposes()
        for purpose in db.session.scalars(sa.select(VerificationPurpose)):
            purpose.sender_number = SENDER
        key = issue_key("faults", ["send", "otp"], actor_label="test").plaintext
        db.session.commit()
    app.config["PROVIDER_CONNECT_TIMEOUT"] = CONNECT_TIMEOUT
    app.config["PROVIDER_READ_TIMEOUT"] = READ_TIMEOUT
    provider_services.forget_adapters()
    return key


@pytest.fixture(scope="session")
def solapi_server() -> Iterator[SimulatorServer]:
    """SOLAPI's own simulator server (so it can go down alone)."""
    with SimulatorServer(SimulatorOptions(delivery_step_seconds=None)) as server:
        yield server


@pytest.fixture
def sims(
    solapi_server: SimulatorServer, simulator: SimulatorServer
) -> Iterator[dict[str, SimulatorServer]]:
    """``{"solapi": ..., "iwinv": ...}``: clean simulators, both up."""
    if solapi_server.is_down:
        solapi_server.bring_up()
    solapi_server.control.clear()
    yield {"solapi": solapi_server, "iwinv": simulator}
    if solapi_server.is_down:
        solapi_server.bring_up()
    settle(solapi_server, "solapi")
    settle(simulator, "iwinv_sms")
    solapi_server.control.clear()
    provider_services.forget_adapters()


def settle(sim: SimulatorServer, vendor: str, timeout: float = 15.0) -> None:
    """Wait until ``sim`` has answered every send it received (delayed ones included).

    A delayed request stores its message only when its delay ends; comparing before that
    would miss it, and clearing before that would let it leak into the next test.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = sim.control.requests(vendor, truth.SEND_PATHS[vendor])
        if all(r["response_status"] is not None or r["fault"] == "reset" for r in rows):
            return
        time.sleep(0.05)
    raise AssertionError(f"{vendor} simulator still has unanswered requests after {timeout} s")


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict


class System:
    """The console under test, its API key and the two simulators."""

    def __init__(
        self, app, sims: dict[str, SimulatorServer], chain: list[str], *, values=None
    ) -> None:
        self.app = app
        self.sims = sims
        self.chain = chain
        self.key = configure(app, sims, chain, values=values)
        self.client = app.test_client()

    # -- the API -------------------------------------------------------------------------
    def _post(self, client, path: str, body: dict) -> Answer:
        response = (client or self.client).post(
            path, json=body, headers={"Authorization": f"Bearer {self.key}"}
        )
        assert response.is_json, (response.status_code, response.data[:300])
        return Answer(response.status_code, response.get_json(), dict(response.headers))

    def send(
        self, phone: str | None = None, text: str = "배송이 시작되었습니다.", client=None, **fields
    ) -> Answer:
        return self._post(
            client, "/api/v1/messages", {"to": phone or new_phone(), "text": text, **fields}
        )

    def start_otp(self, phone: str | None = None, purpose: str = "login", client=None) -> Answer:
        return self._post(
            client, "/api/v1/verifications", {"phone": phone or new_phone(), "purpose": purpose}
        )

    def check_otp(self, verification_id: str, code: str, client=None) -> Answer:
        return self._post(client, f"/api/v1/verifications/{verification_id}/check", {"code": code})

    # -- the simulators -----------------------------------------------------------------
    def inject(self, provider: str, mode: str, **kwargs) -> dict:
        vendor = VENDOR_OF[provider]
        return self.sims[provider].control.inject(
            vendor, mode, path=truth.SEND_PATHS[vendor], **kwargs
        )

    def views(self) -> dict[str, truth.VendorView]:
        for provider, vendor in VENDOR_OF.items():
            settle(self.sims[provider], vendor)
        return {vendor: truth.observe(self.sims[p], vendor) for p, vendor in VENDOR_OF.items()}

    def sent_text(self, phone: str) -> str:
        """The text a vendor stored for ``phone`` (exactly one vendor must have it)."""
        texts = [
            m.get("text")
            for p, v in VENDOR_OF.items()
            for m in self.sims[p].control.messages(v)
            if str(m.get("to") or m.get("phone")) == phone
        ]
        assert len(texts) == 1, texts
        return texts[0]

    # -- the send log -------------------------------------------------------------------
    def rows(self) -> dict[str, truth.LogRow]:
        with self.app.app_context():
            return {row.public_id: row for row in truth.log_rows(self.app.config["KEYRING"])}

    def row_for_phone(self, phone: str) -> truth.LogRow:
        found = [row for row in self.rows().values() if row.phone == phone]
        assert len(found) == 1, found
        return found[0]

    def assert_truthful(self, *, allow_in_flight: bool = False) -> dict[str, truth.LogRow]:
        """Compare every row with the simulators; returns the rows by public id."""
        views = self.views()
        rows = self.rows()
        found = truth.problems(rows.values(), views, VENDOR_OF, allow_in_flight=allow_in_flight)
        assert not found, "\n".join(found)
        return rows


@pytest.fixture(params=[["solapi", "iwinv"]], ids=["solapi>iwinv"])
def chain(request) -> list[str]:
    return list(request.param)


@pytest.fixture
def system(app, sims, chain) -> System:
    return System(app, sims, chain)
