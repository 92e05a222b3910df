"""Vendor result codes → normalized codes, plain meanings and suggested fixes.

One table per vendor API (IWINV runs two APIs with separate code spaces, Aligo
two hosts). Each entry says what the vendor meant and, where an operator can
do something about it, what to do. Texts are ``N_()``-marked and translated
where they are shown.

Sources: K-Message's mapping functions (facts §2.1–2.3) and the vendors' own
code lists; where K-Message got a mapping wrong (SOLAPI turning a server-side
401/403 into ``INVALID_REQUEST``) we map what the vendor meant.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmsg_console.i18n_markers import N_

from .errors import ErrorCode as E


@dataclass(frozen=True)
class VendorCode:
    """What one vendor code means and which normalized code it becomes."""

    code: E
    meaning: str
    fix: str | None = None


_FIX_IP = N_(
    "Register this server's outgoing (egress) IP address in the vendor console's IP allow-list."
)
_FIX_SENDER = N_(
    "Register and verify this sender number with the vendor (발신번호 사전등록) before sending."
)
_FIX_RECHARGE = N_("Recharge the vendor account or raise its auto-recharge limit.")
_FIX_KEYS = N_(
    "Check the API key and secret in the provider settings; re-issue them at the vendor if needed."
)
_FIX_TEMPLATE = N_(
    "Check the template code: it must be approved (검수 완료) and belong to this Kakao channel."
)
_FIX_RATE = N_(
    "The vendor is throttling requests; lower the send rate or ask the vendor for a higher limit."
)
#: Advice to ask for the fallback, pointless once one was requested (the console drops it).
FIX_NOT_KAKAO = N_(
    "The recipient does not use KakaoTalk; enable SMS/LMS fallback for this message."
)
_FIX_PARAMS = N_(
    "Fill every template variable; the values are sent in the template's placeholder order."
)

IWINV_ALIMTALK: dict[str, VendorCode] = {
    "201": VendorCode(
        E.AUTHENTICATION_FAILED, N_("Authentication failed (AUTH header rejected)."), _FIX_KEYS
    ),
    "206": VendorCode(
        E.AUTHENTICATION_FAILED, N_("Request from an IP address that is not registered."), _FIX_IP
    ),
    "401": VendorCode(
        E.AUTHENTICATION_FAILED, N_("Unauthorized: the API key is wrong or missing."), _FIX_KEYS
    ),
    "403": VendorCode(
        E.AUTHENTICATION_FAILED, N_("Forbidden: the key has no permission for this API."), _FIX_KEYS
    ),
    "404": VendorCode(E.TEMPLATE_NOT_FOUND, N_("Template not found."), _FIX_TEMPLATE),
    "429": VendorCode(E.RATE_LIMIT_EXCEEDED, N_("Too many requests."), _FIX_RATE),
    "501": VendorCode(E.TEMPLATE_NOT_FOUND, N_("Invalid templateCode."), _FIX_TEMPLATE),
    "505": VendorCode(E.INVALID_REQUEST, N_("Sender number is not pre-registered."), _FIX_SENDER),
    "508": VendorCode(
        E.INVALID_REQUEST, N_("templateParam is required for this template."), _FIX_PARAMS
    ),
    "518": VendorCode(
        E.PROVIDER_ERROR,
        N_("Vendor-side send failure."),
        N_("Retry later; contact IWINV support if it persists."),
    ),
    "519": VendorCode(E.INSUFFICIENT_BALANCE, N_("Insufficient balance."), _FIX_RECHARGE),
    "540": VendorCode(
        E.INVALID_REQUEST,
        N_("The message contains a blocked keyword."),
        N_("Remove the blocked word from the template variables."),
    ),
}

IWINV_SMS: dict[str, VendorCode] = {
    "1": VendorCode(
        E.PROVIDER_ERROR, N_("Not sent."), N_("Retry later; contact IWINV support if it persists.")
    ),
    "11": VendorCode(
        E.PROVIDER_ERROR,
        N_("The SMS service is not active on this account."),
        N_("Activate the SMS service in the IWINV console."),
    ),
    "12": VendorCode(
        E.PROVIDER_ERROR,
        N_("A plan recharge is in progress."),
        N_("Wait for the recharge to finish."),
    ),
    "13": VendorCode(E.INVALID_REQUEST, N_("Unregistered sender number."), _FIX_SENDER),
    "14": VendorCode(
        E.AUTHENTICATION_FAILED,
        N_("Bad authentication request (key pair or secret header wrong)."),
        _FIX_KEYS,
    ),
    "15": VendorCode(
        E.AUTHENTICATION_FAILED, N_("Request from an IP address that is not registered."), _FIX_IP
    ),
    "21": VendorCode(E.INVALID_REQUEST, N_("LMS text is over 2000 bytes.")),
    "22": VendorCode(E.INVALID_REQUEST, N_("The title contains invalid characters.")),
    "23": VendorCode(E.INVALID_REQUEST, N_("The title is over 40 bytes.")),
    "31": VendorCode(E.INVALID_REQUEST, N_("The image is over 100 KB.")),
    "32": VendorCode(E.INVALID_REQUEST, N_("The image file type is not allowed.")),
    "33": VendorCode(E.INVALID_REQUEST, N_("The image upload failed.")),
    "41": VendorCode(E.INVALID_REQUEST, N_("The recipient is missing.")),
    "42": VendorCode(E.INVALID_REQUEST, N_("The reservation time is not allowed.")),
    "43": VendorCode(E.INVALID_REQUEST, N_("The date format is wrong.")),
    "44": VendorCode(E.INVALID_REQUEST, N_("More than 1000 recipients.")),
    "50": VendorCode(
        E.INSUFFICIENT_BALANCE, N_("The SMS auto-recharge limit was exceeded."), _FIX_RECHARGE
    ),
    "202": VendorCode(
        E.AUTHENTICATION_FAILED, N_("SMS API authentication failed or no permission."), _FIX_KEYS
    ),
    "206": VendorCode(
        E.AUTHENTICATION_FAILED, N_("Request from an IP address that is not registered."), _FIX_IP
    ),
}

#: Aligo SMS (``result_code``); Aligo's Kakao API reuses the negative account codes.
ALIGO_SMS: dict[str, VendorCode] = {
    "-100": VendorCode(
        E.AUTHENTICATION_FAILED, N_("Credentials (key, user_id) are missing."), _FIX_KEYS
    ),
    "-101": VendorCode(
        E.AUTHENTICATION_FAILED, N_("Authentication error: the key or user id is wrong."), _FIX_KEYS
    ),
    "-102": VendorCode(E.INSUFFICIENT_BALANCE, N_("No points left."), _FIX_RECHARGE),
    "-103": VendorCode(
        E.INVALID_REQUEST, N_("The sender number is not registered or invalid."), _FIX_SENDER
    ),
    "-105": VendorCode(E.INVALID_REQUEST, N_("The recipient or the message content is invalid.")),
    "-201": VendorCode(E.INSUFFICIENT_BALANCE, N_("Insufficient balance."), _FIX_RECHARGE),
    "-501": VendorCode(
        E.TEMPLATE_NOT_FOUND, N_("Template not found or not approved."), _FIX_TEMPLATE
    ),
}

#: Aligo Kakao (``code``). K-Message maps -99 to INVALID_REQUEST; Aligo uses it for a
#: wrong account id or API key, so it is an authentication failure here.
ALIGO_KAKAO: dict[str, VendorCode] = {
    **ALIGO_SMS,
    "-99": VendorCode(
        E.AUTHENTICATION_FAILED, N_("The account id (userid) or API key is invalid."), _FIX_KEYS
    ),
    "506": VendorCode(E.INVALID_REQUEST, N_("A required parameter is missing.")),
    "507": VendorCode(
        E.INVALID_REQUEST,
        N_("The Kakao sender key is invalid."),
        N_("Check the Kakao sender key in the Aligo provider settings."),
    ),
    "508": VendorCode(E.INVALID_REQUEST, N_("The sender number is not registered."), _FIX_SENDER),
    "509": VendorCode(
        E.INVALID_REQUEST, N_("The message does not match the approved template."), _FIX_PARAMS
    ),
    "510": VendorCode(E.INVALID_REQUEST, N_("Not allowed in the template's current review state.")),
}

SOLAPI: dict[str, VendorCode] = {
    # HTTP-level errorCode values
    "InvalidAPIKey": VendorCode(E.AUTHENTICATION_FAILED, N_("The API key is invalid."), _FIX_KEYS),
    "InvalidApiKey": VendorCode(E.AUTHENTICATION_FAILED, N_("The API key is invalid."), _FIX_KEYS),
    "InvalidAuthorizationHeader": VendorCode(
        E.AUTHENTICATION_FAILED, N_("The Authorization header is malformed."), _FIX_KEYS
    ),
    "SignatureDoesNotMatch": VendorCode(
        E.AUTHENTICATION_FAILED,
        N_("The HMAC signature does not match (wrong API secret)."),
        _FIX_KEYS,
    ),
    "RequestTimeTooSkewed": VendorCode(
        E.AUTHENTICATION_FAILED,
        N_("The signed date is too far from SOLAPI's clock."),
        N_("Synchronize this server's clock (NTP)."),
    ),
    "DuplicatedSignature": VendorCode(
        E.AUTHENTICATION_FAILED,
        N_("A signature salt was reused."),
        N_("Retry; each request must use a fresh random salt."),
    ),
    "NotEnoughBalance": VendorCode(
        E.INSUFFICIENT_BALANCE, N_("Insufficient balance."), _FIX_RECHARGE
    ),
    "UnregisteredSenderId": VendorCode(
        E.INVALID_REQUEST, N_("The sender number is not registered."), _FIX_SENDER
    ),
    "ValidationError": VendorCode(E.INVALID_REQUEST, N_("The request failed SOLAPI's validation.")),
    "TooManyRequests": VendorCode(E.RATE_LIMIT_EXCEEDED, N_("Too many requests."), _FIX_RATE),
    # message statusCode values (failedMessageList and the message list API)
    "1010": VendorCode(E.INVALID_REQUEST, N_("A required field is missing.")),
    "1021": VendorCode(
        E.INVALID_REQUEST,
        N_("The sender number is malformed or not registered."),
        N_(
            "Check the sender number: digits only, a mobile, landline, 070 or 15XX/16XX/18XX "
            "number, registered and verified at SOLAPI (발신번호 사전등록)."
        ),
    ),
    "1030": VendorCode(E.INSUFFICIENT_BALANCE, N_("Insufficient balance."), _FIX_RECHARGE),
    "2230": VendorCode(E.INSUFFICIENT_BALANCE, N_("Insufficient balance."), _FIX_RECHARGE),
    "1062": VendorCode(E.INVALID_REQUEST, N_("The sender number is not registered."), _FIX_SENDER),
    "2062": VendorCode(E.INVALID_REQUEST, N_("The sender number is not registered."), _FIX_SENDER),
    "3040": VendorCode(E.MESSAGE_SEND_FAILED, N_("Delivery timed out at the carrier.")),
    "3101": VendorCode(
        E.INVALID_REQUEST,
        N_("The Kakao sender profile key (pfId) is invalid."),
        N_("Check the Kakao channel pfId in the SOLAPI provider settings."),
    ),
    "3103": VendorCode(
        E.INVALID_REQUEST, N_("The message does not match the approved template."), _FIX_PARAMS
    ),
    "3105": VendorCode(
        E.TEMPLATE_NOT_FOUND, N_("The template is not registered or not approved."), _FIX_TEMPLATE
    ),
    "3104": VendorCode(
        E.MESSAGE_SEND_FAILED, N_("The recipient is not a KakaoTalk user."), FIX_NOT_KAKAO
    ),
    "3107": VendorCode(
        E.MESSAGE_SEND_FAILED,
        N_("The recipient cannot receive AlimTalk (blocked or not a user)."),
        FIX_NOT_KAKAO,
    ),
}

TABLES: dict[str, dict[str, VendorCode]] = {
    "iwinv_alimtalk": IWINV_ALIMTALK,
    "iwinv_sms": IWINV_SMS,
    "aligo_sms": ALIGO_SMS,
    "aligo_kakao": ALIGO_KAKAO,
    "solapi": SOLAPI,
}


def normalize_vendor_code(value: object) -> str | None:
    """Normalize a vendor code sent as a number or string (``200``, ``"200"``, ``200.0``)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def map_vendor_code(
    table: str, vendor_code: object, *, http_status: int | None = None
) -> VendorCode:
    """Look ``vendor_code`` up in ``table``; unknown codes fall back per vendor code family."""
    code = normalize_vendor_code(vendor_code)
    entry = TABLES[table].get(code or "")
    if entry is not None:
        return entry
    if table == "iwinv_alimtalk" and code is not None and code.lstrip("-").isdigit():
        number = int(code)
        if 502 <= number <= 517:
            return VendorCode(E.INVALID_REQUEST, N_("The request failed IWINV's validation."))
        if number >= 500:
            return VendorCode(E.PROVIDER_ERROR, N_("Vendor-side error."))
        return VendorCode(E.INVALID_REQUEST, N_("The request was rejected."))
    if table == "solapi" and code is not None and code.isdigit() and len(code) == 4:
        # SOLAPI message status codes: 1xxx/2xxx are refusals at intake, 3xxx delivery failures.
        if code[0] in "12":
            return VendorCode(E.INVALID_REQUEST, N_("SOLAPI refused the message at intake."))
        if code[0] == "3":
            return VendorCode(
                E.MESSAGE_SEND_FAILED, N_("The carrier or Kakao could not deliver the message.")
            )
    if table == "solapi" and http_status is not None:
        if http_status in (401, 403):
            return VendorCode(E.AUTHENTICATION_FAILED, N_("Authentication rejected."), _FIX_KEYS)
        if http_status == 429:
            return VendorCode(E.RATE_LIMIT_EXCEEDED, N_("Too many requests."), _FIX_RATE)
        if 400 <= http_status < 500:
            return VendorCode(E.INVALID_REQUEST, N_("The request was rejected."))
    return VendorCode(E.PROVIDER_ERROR, N_("Vendor-side or unknown vendor failure."))


@dataclass(frozen=True)
class Explanation:
    """An operator-facing explanation of one vendor code."""

    vendor: str
    vendor_code: str
    code: E
    meaning: str
    fix: str | None


_VENDOR_TABLES = {
    "iwinv": ("iwinv_alimtalk", "iwinv_sms"),
    "aligo": ("aligo_kakao", "aligo_sms"),
    "solapi": ("solapi",),
}


def explain(
    vendor: str, vendor_code: object, message_type: str | None = None
) -> Explanation | None:
    """Explain a vendor code for the console, or ``None`` when we do not know it.

    :param vendor: ``"iwinv"``, ``"aligo"``, ``"solapi"`` or a table name such as ``"iwinv_sms"``.
    :param message_type: picks IWINV's AlimTalk or SMS table (their codes overlap);
        without it the AlimTalk table is tried first.
    """
    code = normalize_vendor_code(vendor_code)
    if code is None:
        return None
    tables = (vendor,) if vendor in TABLES else _VENDOR_TABLES.get(vendor, ())
    if message_type is not None and vendor in ("iwinv", "aligo"):
        kakao = str(message_type).upper() in ("ALIMTALK", "FRIENDTALK")
        tables = tables[:1] if kakao else tables[1:]  # each vendor lists its Kakao table first
    for table in tables:
        entry = TABLES[table].get(code)
        if entry is not None:
            return Explanation(vendor, code, entry.code, entry.meaning, entry.fix)
    return None
