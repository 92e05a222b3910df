"""Checks a template must pass before anything leaves the console.

Kakao's rules (K-Message's validators, facts §4.2, anchors A3) plus each vendor's own limits.
Every problem is an :class:`Issue` naming the form field it belongs to, with an ``N_``
message translated where it is shown. Errors block saving; hints (``blocking=False``) are
shown next to the form and on the template page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.encoding import LMS_MAX_BYTES, SMS_MAX_BYTES, count_bytes
from kmsg_console.messaging.variables import PLACEHOLDER_RE, placeholder_names

from .models import ButtonType, Category, EmphasisType, KakaoMessageType, TemplateKind

ALIMTALK_MAX_CHARS = 1000
MAX_BUTTONS = 5
BUTTON_NAME_MAX = 14
LINK_MAX = 200
NAME_MAX = 100
#: Vendor limits the registration API enforces (facts §2.2, §4.2; anchors A3).
VENDOR_NAME_MAX = {"iwinv": 15}
VENDOR_LINK_MAX = {"iwinv": 200, "solapi": 100}
#: Vendors whose template API carries only name, content and buttons.
BASIC_ONLY_VENDORS = {"iwinv", "aligo"}
VENDOR_LABELS = {"solapi": "SOLAPI", "iwinv": "IWINV", "aligo": "Aligo", "sandbox": "Sandbox"}
CODE_WORDS = ("인증", "코드", "번호", "code", "otp", "pin")
AMOUNT_WORDS = ("금액", "가격", "원", "amount", "price", "total")
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")


@dataclass(frozen=True)
class Issue:
    """One problem: ``field`` is a form field name (``buttons-2-name`` for a button row)."""

    field: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    blocking: bool = True


@dataclass
class TemplateData:
    """What an operator typed (already stripped)."""

    kind: str
    name: str
    content: str
    provider_vendor: str | None = None
    sender_profile: str | None = None
    plus_id: str | None = None
    category: str | None = None
    category_code: str | None = None
    message_type: str = KakaoMessageType.BA.value
    emphasis_type: str = EmphasisType.NONE.value
    emphasis_title: str | None = None
    emphasis_subtitle: str | None = None
    extra_info: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    security_flag: bool = False
    sample_values: dict[str, str] = field(default_factory=dict)


def variables_of(content: str) -> list[str]:
    """Distinct ``#{…}`` names in order of first appearance."""
    return list(dict.fromkeys(placeholder_names(content or "")))


def link_is_valid(link: str, *, app_link: bool = False) -> bool:
    """An http(s) URL with a host; app links may also use their own scheme (``myapp://``).

    ``#{…}`` variables inside a link are allowed and stand for one path segment.
    """
    text = PLACEHOLDER_RE.sub("x", link.strip())
    if " " in text:
        return False
    parts = urlsplit(text)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        return "." in host or host == "localhost"
    return app_link and bool(_SCHEME_RE.match(text))


def validate(data: TemplateData) -> list[Issue]:
    """Every problem with ``data`` (errors first-class, hints with ``blocking=False``)."""
    issues: list[Issue] = []
    vendor = data.provider_vendor
    if not data.name:
        issues.append(Issue("name", N_("Enter a name.")))
    elif len(data.name) > NAME_MAX:
        issues.append(Issue("name", N_("At most %(limit)d characters."), {"limit": NAME_MAX}))
    elif vendor in VENDOR_NAME_MAX and len(data.name) > VENDOR_NAME_MAX[vendor]:
        issues.append(
            Issue(
                "name",
                N_("%(vendor)s allows template names of at most %(limit)d characters."),
                {"vendor": VENDOR_LABELS.get(vendor, vendor), "limit": VENDOR_NAME_MAX[vendor]},
            )
        )
    issues.extend(_check_content(data))
    issues.extend(_check_variables(data))
    if data.kind == TemplateKind.ALIMTALK.value:
        issues.extend(_check_kakao(data))
        issues.extend(_check_buttons(data.buttons, vendor))
        issues.extend(_category_hints(data))
    return issues


def _check_content(data: TemplateData) -> list[Issue]:
    content = data.content
    if not content.strip():
        return [Issue("content", N_("Enter the message text."))]
    if data.kind == TemplateKind.ALIMTALK.value:
        if len(content) > ALIMTALK_MAX_CHARS:
            return [
                Issue(
                    "content",
                    N_("AlimTalk text is %(chars)d characters; the limit is %(limit)d."),
                    {"chars": len(content), "limit": ALIMTALK_MAX_CHARS},
                )
            ]
        return []
    size = count_bytes(PLACEHOLDER_RE.sub("", content)).bytes
    if data.kind == TemplateKind.LMS.value and size > LMS_MAX_BYTES:
        return [
            Issue(
                "content",
                N_("LMS text is %(bytes)d bytes without its variables; the limit is %(limit)d."),
                {"bytes": size, "limit": LMS_MAX_BYTES},
            )
        ]
    if data.kind == TemplateKind.SMS.value and size > SMS_MAX_BYTES:
        return [
            Issue(
                "content",
                N_(
                    "SMS text is %(bytes)d bytes without its variables; "
                    "the limit is %(limit)d. Use LMS."
                ),
                {"bytes": size, "limit": SMS_MAX_BYTES},
            )
        ]
    return []


def _check_variables(data: TemplateData) -> list[Issue]:
    issues: list[Issue] = []
    names = placeholder_names(data.content)
    if any(not name for name in names):
        issues.append(Issue("content", N_("A variable needs a name between #{ and }.")))
    if "#{" in PLACEHOLDER_RE.sub("", data.content):
        issues.append(Issue("content", N_("A variable is not closed with }.")))
    bad = [n for n in names if n and not re.fullmatch(r"[\w가-힣 .-]{1,30}", n)]
    if bad:
        issues.append(
            Issue(
                "content",
                N_(
                    "Variable names use letters, digits, spaces, - and _ only "
                    "(at most 30): %(names)s"
                ),
                {"names": ", ".join(dict.fromkeys(bad))},
            )
        )
    if data.provider_vendor == "solapi" and any("." in n for n in names):
        issues.append(
            Issue(
                "content",
                N_("SOLAPI does not accept a '.' in variable names: %(names)s"),
                {"names": ", ".join(n for n in dict.fromkeys(names) if "." in n)},
            )
        )
    return issues


def _check_kakao(data: TemplateData) -> list[Issue]:
    issues: list[Issue] = []
    vendor = data.provider_vendor
    if vendor is None:
        issues.append(
            Issue("provider", N_("Choose the provider that registers this AlimTalk template."))
        )
    if vendor in ("solapi", "aligo") and not data.sender_profile:
        issues.append(
            Issue(
                "sender_profile",
                N_("Enter the Kakao channel's sender profile (pfId or senderKey)."),
            )
        )
    if data.plus_id and not re.fullmatch(r"@[A-Za-z0-9_\-가-힣]{2,30}", data.plus_id):
        issues.append(Issue("plus_id", N_("A channel id starts with @, e.g. @myshop.")))
    if vendor == "solapi" and not data.category_code:
        issues.append(
            Issue(
                "category_code",
                N_(
                    "SOLAPI needs Kakao's category code, "
                    "e.g. 001002 for sign-in and authentication."
                ),
            )
        )
    if data.category_code and not re.fullmatch(r"\d{3,11}", data.category_code):
        issues.append(
            Issue("category_code", N_("A Kakao category code is digits only, e.g. 001002."))
        )
    if (
        data.message_type in (KakaoMessageType.EX.value, KakaoMessageType.MI.value)
        and not data.extra_info
    ):
        issues.append(
            Issue(
                "extra_info",
                N_("Extra-information and mixed templates need the extra information text."),
            )
        )
    if data.emphasis_type == EmphasisType.TEXT.value and not data.emphasis_title:
        issues.append(Issue("emphasis_title", N_("An emphasized title needs the title text.")))
    if len(data.content) + len(data.extra_info or "") > ALIMTALK_MAX_CHARS and data.extra_info:
        issues.append(
            Issue(
                "extra_info",
                N_("Text and extra information together exceed %(limit)d characters."),
                {"limit": ALIMTALK_MAX_CHARS},
            )
        )
    if vendor in BASIC_ONLY_VENDORS:
        if data.message_type != KakaoMessageType.BA.value:
            issues.append(
                Issue(
                    "message_type",
                    N_("%(vendor)s registers basic templates only through its API."),
                    {"vendor": VENDOR_LABELS.get(vendor, vendor)},
                )
            )
        if data.emphasis_type != EmphasisType.NONE.value:
            issues.append(
                Issue(
                    "emphasis_type",
                    N_("%(vendor)s registers templates without emphasis only through its API."),
                    {"vendor": VENDOR_LABELS.get(vendor, vendor)},
                )
            )
        if data.security_flag:
            issues.append(
                Issue(
                    "security_flag",
                    N_(
                        "%(vendor)s's API does not carry the security flag; "
                        "set it in the provider's console too."
                    ),
                    {"vendor": VENDOR_LABELS.get(vendor, vendor)},
                    blocking=False,
                )
            )
    return issues


def _check_buttons(buttons: Sequence[Mapping[str, str]], vendor: str | None) -> list[Issue]:
    issues: list[Issue] = []
    if len(buttons) > MAX_BUTTONS:
        issues.append(Issue("buttons", N_("At most %(limit)d buttons."), {"limit": MAX_BUTTONS}))
    link_max = VENDOR_LINK_MAX.get(vendor or "", LINK_MAX)
    for index, button in enumerate(buttons):
        prefix = f"buttons-{button.get('row', index)}-"
        kind, name = button.get("type") or "", button.get("name") or ""
        if kind not in ButtonType.__members__:
            issues.append(Issue(prefix + "type", N_("Choose the button type.")))
            continue
        if not name:
            issues.append(Issue(prefix + "name", N_("Enter the button name.")))
        elif len(name) > BUTTON_NAME_MAX:
            issues.append(
                Issue(
                    prefix + "name",
                    N_("A button name has at most %(limit)d characters."),
                    {"limit": BUTTON_NAME_MAX},
                )
            )
        elif PLACEHOLDER_RE.search(name):
            issues.append(Issue(prefix + "name", N_("A button name cannot contain variables.")))
        required = {"WL": ("link_mobile",), "AL": ("link_ios", "link_android")}.get(kind, ())
        for key in required:
            if not button.get(key):
                issues.append(
                    Issue(prefix + key, N_("A %(type)s button needs this link."), {"type": kind})
                )
        for key in ("link_mobile", "link_pc", "link_ios", "link_android"):
            link = button.get(key) or ""
            if not link:
                continue
            if kind not in ("WL", "AL"):
                issues.append(Issue(prefix + key, N_("Only web and app link buttons have links.")))
            elif len(link) > link_max:
                issues.append(
                    Issue(
                        prefix + key,
                        N_("A link has at most %(limit)d characters."),
                        {"limit": link_max},
                    )
                )
            elif not link_is_valid(link, app_link=kind == "AL"):
                issues.append(
                    Issue(prefix + key, N_("Enter a full URL starting with http:// or https://."))
                )
    return issues


def _category_hints(data: TemplateData) -> list[Issue]:
    names = [n.lower() for n in variables_of(data.content)]
    category = data.category
    issues: list[Issue] = []
    if category == Category.AUTHENTICATION.value:
        if not any(word in name for name in names for word in CODE_WORDS):
            issues.append(
                Issue(
                    "content",
                    N_(
                        "An authentication template carries the code in a variable, "
                        "e.g. #{code} or #{인증번호}."
                    ),
                )
            )
        if not data.security_flag:
            issues.append(
                Issue(
                    "security_flag",
                    N_(
                        "Turn on the security flag for OTP templates: "
                        "KakaoTalk then hides the text on PCs."
                    ),
                    blocking=False,
                )
            )
        if data.buttons:
            issues.append(
                Issue(
                    "buttons",
                    N_("Authentication templates usually have no buttons."),
                    blocking=False,
                )
            )
    elif category == Category.PROMOTION.value and not data.buttons:
        issues.append(
            Issue("buttons", N_("Promotion templates usually carry a button."), blocking=False)
        )
    elif category == Category.PAYMENT.value and not any(
        w in n for n in names for w in AMOUNT_WORDS
    ):
        issues.append(
            Issue(
                "content",
                N_("Payment templates usually show the amount in a variable, e.g. #{금액}."),
                blocking=False,
            )
        )
    if data.security_flag and category not in (None, "", Category.AUTHENTICATION.value):
        issues.append(
            Issue(
                "security_flag",
                N_("The security flag is meant for authentication templates."),
                blocking=False,
            )
        )
    return issues


def errors(issues: Sequence[Issue]) -> list[Issue]:
    return [i for i in issues if i.blocking]


def hints(issues: Sequence[Issue]) -> list[Issue]:
    return [i for i in issues if not i.blocking]
