"""Configuration of the vendor simulators and the vendor catalogue.

Everything a test or an operator may want to vary lives in :class:`SimulatorOptions`,
so the simulator itself has no hidden constants: credentials, registered sender
numbers, balances, the delivery progression and the IWINV IP whitelist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Vendor id -> URL prefix. Each prefix is usable as that vendor API's base URL.
VENDOR_PREFIXES: dict[str, str] = {
    "solapi": "/solapi",
    "iwinv_alimtalk": "/iwinv/alimtalk",
    "iwinv_sms": "/iwinv/sms",
    "aligo_sms": "/aligo/sms",
    "aligo_kakao": "/aligo/kakao",
}

#: Human-readable labels for the start banner and the index page.
VENDOR_LABELS: dict[str, str] = {
    "solapi": "SOLAPI",
    "iwinv_alimtalk": "IWINV AlimTalk",
    "iwinv_sms": "IWINV SMS",
    "aligo_sms": "Aligo SMS",
    "aligo_kakao": "Aligo Kakao",
}

#: Vendors that hold Kakao templates (control API review actions apply to these).
TEMPLATE_VENDORS = ("solapi", "iwinv_alimtalk", "aligo_kakao")

#: Vendors with a delivery-status API (control API status changes apply to these).
STATUS_VENDORS = ("solapi", "iwinv_alimtalk", "iwinv_sms")


def normalize_vendor(value: str) -> str:
    """Map ``"iwinv-sms"``, ``"/iwinv/sms"`` or ``"IWINV_SMS"`` to the vendor id ``"iwinv_sms"``.

    Raises ``KeyError`` for an unknown vendor so callers can answer 404.
    """
    key = value.strip().strip("/").lower().replace("/", "_").replace("-", "_")
    if key not in VENDOR_PREFIXES:
        raise KeyError(value)
    return key


def vendor_for_path(path: str) -> tuple[str, str] | None:
    """Return ``(vendor, path relative to the vendor prefix)`` or None for non-vendor paths."""
    for vendor, prefix in VENDOR_PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return vendor, path[len(prefix) :] or "/"
    return None


@dataclass
class SimulatorOptions:
    """Knobs of the simulator. Defaults accept the documented demo credentials.

    Delivery progression: a stored message walks through its vendor's status steps
    (e.g. SOLAPI 2000 -> 3000 -> 4000), one step every ``delivery_step_seconds``.
    ``0`` makes the final status visible immediately; ``None`` keeps every message at
    its first status until a test sets one through the control API.
    """

    # SOLAPI
    solapi_api_key: str = "demo-api-key"
    solapi_api_secret: str = "demo-api-secret"  # noqa: S105 (public demo value)
    #: Allowed clock skew of the signed ``date`` and the salt-replay window, in seconds.
    solapi_skew_seconds: int = 15 * 60
    solapi_pf_id: str = "KA01PF000000000000000000DEMO"
    solapi_balance: float = 100_000.0
    solapi_point: float = 0.0
    #: What Kakao "sends" to a channel admin's phone when a channel link is requested.
    solapi_channel_token: str = "246810"  # noqa: S105 (public demo value)

    # IWINV (two independent APIs with separate credentials)
    iwinv_api_key: str = "demo-api-key"
    iwinv_sms_api_key: str = "demo-sms-key"
    iwinv_sms_auth_key: str = "demo-sms-auth"
    iwinv_sms_company_id: str = "demo"
    iwinv_charge: float = 50_000.0
    iwinv_sms_charge: float = 50_000.0
    #: IP whitelist shared by both IWINV APIs (X-Forwarded-For wins over the peer
    #: address, as k-msg uses it for whitelisted testing). Empty = every IP allowed.
    iwinv_allowed_ips: tuple[str, ...] = ()
    #: IWINV documents 60 requests/min; None disables the limiter (code 429).
    iwinv_rate_limit_per_minute: int | None = None

    # Aligo (SMS and Kakao share one account and point balance)
    aligo_api_key: str = "demo-api-key"
    aligo_user_id: str = "demo"
    aligo_sender_key: str = "demo-sender-key"
    aligo_plus_id: str = "@kmsgdemo"
    aligo_point: float = 50_000.0
    #: What Kakao "sends" a channel admin after ``/akv10/profile/auth/`` (a real one is random).
    aligo_channel_auth_number: str = "123456"

    # Shared behaviour
    #: Pre-registered sender numbers (발신번호); anything else is "unregistered sender".
    sender_numbers: tuple[str, ...] = ("0212345678", "01000000000")
    #: Recipients that are not KakaoTalk users: AlimTalk to them ends failed (SOLAPI 3104).
    non_kakao_users: tuple[str, ...] = ("01099990000",)
    delivery_step_seconds: float | None = 1.0
    #: Seed one approved OTP template per Kakao vendor (code ``demo_template_code``).
    seed_templates: bool = True
    demo_template_code: str = "KMSG_OTP_001"
    demo_template_name: str = "인증번호 안내"
    demo_template_content: str = "[#{service}] 인증번호는 [#{code}]입니다. 3분 안에 입력해 주세요."
    #: Refuse control-API calls from non-loopback addresses (the API can rewrite state).
    control_loopback_only: bool = True
    #: Upper bound of recorded requests kept per vendor (oldest dropped first).
    max_recorded_requests: int = 5_000
    #: Unit price per message type, charged against the vendor balance on acceptance.
    unit_prices: dict[str, float] = field(
        default_factory=lambda: {"SMS": 20.0, "LMS": 50.0, "MMS": 200.0, "ATA": 13.0, "CTA": 20.0}
    )

    def is_registered_sender(self, number: str | None) -> bool:
        """True when ``number`` (hyphens and spaces ignored) is a registered sender."""
        if not number:
            return False
        digits = "".join(ch for ch in number if ch.isdigit())
        return digits in {"".join(ch for ch in n if ch.isdigit()) for n in self.sender_numbers}

    def price(self, message_type: str) -> float:
        """Unit price charged for one accepted message of ``message_type``."""
        return self.unit_prices.get(message_type, self.unit_prices.get("SMS", 20.0))
