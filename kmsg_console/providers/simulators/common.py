"""Small helpers shared by the vendor simulators (JSON, phone numbers, bytes, templates)."""

from __future__ import annotations

import json
import re
import secrets
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask import Response, request

KST = timezone(timedelta(hours=9), "KST")

_VARIABLE = re.compile(r"#\{([^}]*)\}")
_KR_PHONE = re.compile(r"^0\d{8,10}$")


def json_response(
    payload: Any,
    status: int = 200,
    *,
    content_type: str = "application/json; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> Response:
    """JSON with Korean text left readable (vendors answer UTF-8, not ``\\uXXXX`` escapes)."""
    body = json.dumps(payload, ensure_ascii=False)
    response = Response(body, status=status, content_type=content_type)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def now_kst() -> datetime:
    """Current time in Asia/Seoul, which is what every vendor date field uses."""
    return datetime.now(KST)


def fmt_datetime(value: datetime | None = None) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in KST (IWINV and Aligo date format)."""
    return (value or now_kst()).astimezone(KST).strftime("%Y-%m-%d %H:%M:%S")


def iso_now() -> str:
    """ISO-8601 UTC timestamp with milliseconds (SOLAPI date format)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def digits(value: Any) -> str:
    """Keep only the digits of a phone-like value."""
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def is_kr_phone(value: Any) -> bool:
    """Domestic Korean number after removing hyphens: ``0`` + 8..10 digits.

    Vendors strip hyphens and spaces but refuse ``+82`` forms, so those fail here too.
    """
    raw = str(value or "").replace("-", "").replace(" ", "")
    return bool(_KR_PHONE.match(raw))


def kr_bytes(text: str) -> int:
    """Carrier byte length: 1 per ASCII character, 2 for anything else (EUC-KR style)."""
    return sum(1 if ord(ch) < 128 else 2 for ch in text)


def random_token(length: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
    """Random id fragment (ids only need to be unique, not secret)."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def template_variables(content: str) -> list[str]:
    """Variable names in order of first appearance; positional APIs (IWINV) follow this order."""
    seen: list[str] = []
    for match in _VARIABLE.finditer(content):
        name = match.group(1).strip()
        if name not in seen:
            seen.append(name)
    return seen


def render_template(content: str, values: dict[str, Any] | list[Any]) -> str:
    """Fill ``#{name}`` slots from a mapping or from a positional list (missing -> empty)."""
    if isinstance(values, list):
        names = template_variables(content)
        mapping = {name: values[i] for i, name in enumerate(names) if i < len(values)}
    else:
        mapping = {str(k).strip("#{} "): v for k, v in values.items()}
    return _VARIABLE.sub(lambda m: str(mapping.get(m.group(1).strip(), "")), content)


def matches_template(content: str, text: str) -> bool:
    """True when ``text`` is ``content`` with every ``#{var}`` replaced by some non-empty text.

    This is the check Kakao (and so Aligo) applies to AlimTalk bodies: only the
    variable parts may differ from the approved template.
    """
    parts = _VARIABLE.split(_normalize_newlines(content))
    # split() with one group alternates literal, name, literal, name, ...
    pattern = "".join(re.escape(part) if i % 2 == 0 else "(.+?)" for i, part in enumerate(parts))
    return re.fullmatch(pattern, _normalize_newlines(text), flags=re.DOTALL) is not None


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def client_ip() -> str:
    """The caller's IP as a whitelisting vendor sees it (first X-Forwarded-For hop wins)."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded.strip():
        return forwarded.split(",")[0].strip()
    return request.remote_addr or ""


def form_or_json() -> dict[str, Any]:
    """Request fields from a form/multipart body, or from a JSON object body."""
    if request.form:
        return request.form.to_dict(flat=True)
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def as_int(value: Any, default: int) -> int:
    """Lenient int parsing for paging fields sent as strings or numbers."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default
