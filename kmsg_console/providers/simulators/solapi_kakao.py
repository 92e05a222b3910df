"""SOLAPI Kakao AlimTalk template API (``/kakao/v2/templates``, kmsg-facts §4.4), same HMAC auth.

Review lifecycle: PENDING -(inspection request)-> INSPECTING -> APPROVED | REJECTED.
Kakao itself approves or rejects; here that happens through the control API.
Editing is allowed only while PENDING or REJECTED and sends the template back to PENDING; the
name changes in any status; only PENDING or REJECTED templates are deleted (the Node SDK's
``removeKakaoAlimtalkTemplate``: "대기, 반려 상태일 때만 삭제가능").

The request for inspection, ``PUT /templates/{id}/inspection``, is SOLAPI's: kmsg-facts §4.4
lists only its cancel, and npm ``solapi`` 6.0.1 has no method for it, but ``solapi`` 5.1.1-5.4
called it as ``requestInspectionKakaoAlimtalkTemplate`` (dropped in the 5.5 restructure while
the repository's example ``inspect_template.js`` still calls it), SOLAPI's current Kotlin SDK
calls it (``requestKakaoAlimtalkTemplateInspection``), and both name a new template's PENDING
"검수 대기" (waiting for inspection). A template therefore does not enter review on creation.
The answer's fields are the ones the Node SDK requires of a template
(``getKakaoTemplateResponseSchema``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from .common import iso_now, json_response, random_token, template_variables
from .solapi_auth import check_auth, error
from .solapi_channels import linked_channel
from .solapi_kakao_queries import DATE, FLAG, TEXT, QueryError, conditions, matches, page
from .solapi_messages import ACCOUNT_ID
from .state import SimulatorState, get_state, synchronized

bp = Blueprint("sim_solapi_kakao", __name__, url_prefix="/solapi/kakao/v2")

EDITABLE = DELETABLE = ("PENDING", "REJECTED")
CATEGORIES = [
    {"code": "001001", "name": "회원 > 회원가입"},
    {"code": "001002", "name": "회원 > 인증/비밀번호/로그인"},
    {"code": "002001", "name": "구매 > 주문/예약"},
    {"code": "004001", "name": "배송 > 배송상태"},
]
_UPDATABLE = (
    "name",
    "content",
    "categoryCode",
    "buttons",
    "quickReplies",
    "messageType",
    "emphasizeType",
    "emphasizeTitle",
    "securityFlag",
    "imageId",
    "header",
    "highlight",
    "item",
    "extra",
)
#: Fields the list filters on, with SOLAPI's operators per kind (see solapi_kakao_queries).
FILTERS = {
    "templateId": TEXT,
    "name": TEXT,
    "status": TEXT,
    "channelId": TEXT,
    "channelGroupId": TEXT,
    "isHidden": FLAG,
    "dateCreated": DATE,
    "dateUpdated": DATE,
}


@bp.before_request
def _authenticate() -> Response | None:
    return check_auth(get_state())


def emphasized_subtitle(data: dict[str, Any]) -> Any:
    """The subtitle of a create or update body, in either spelling the clients send.

    Answers spell it ``emphasizeSubtitle``: the Node SDK reads that name from a template
    (``kakaoAlimtalkTemplateSchema``) and so does SOLAPI's Kotlin SDK
    (``KakaoAlimtalkTemplateResponse``), as does the SDK repository's Next.js example. Requests
    differ: the Node SDK sends ``emphasizeSubTitle`` (its commit 9022f21 "fix kakao alimtalk
    template create, update request and responses" moved the request to that spelling while the
    answer kept ``emphasizeSubtitle``) and the console follows it; the Kotlin SDK sends
    ``emphasizeSubtitle``. Both are taken, the Node SDK's first.
    """
    if "emphasizeSubTitle" in data:
        return data["emphasizeSubTitle"]
    return data.get("emphasizeSubtitle")


def _has_subtitle(data: dict[str, Any]) -> bool:
    return "emphasizeSubTitle" in data or "emphasizeSubtitle" in data


def make_template(
    state: SimulatorState,
    data: dict[str, Any],
    template_id: str | None = None,
    status: str = "PENDING",
) -> dict[str, Any]:
    """Build and store a template in SOLAPI's shape."""
    now = iso_now()
    template_id = template_id or "KA01TP" + datetime.now(UTC).strftime(
        "%y%m%d%H%M%S"
    ) + random_token(12)
    content = str(data.get("content") or "")
    template = {
        "templateId": template_id,
        "accountId": ACCOUNT_ID,
        "name": data.get("name"),
        "content": content,
        "channelId": data.get("channelId"),
        "channelGroupId": data.get("channelGroupId"),
        "assignType": "CHANNEL" if data.get("channelId") else "GROUP",
        "categoryCode": data.get("categoryCode"),
        "buttons": data.get("buttons") or [],
        "quickReplies": data.get("quickReplies") or [],
        "messageType": data.get("messageType") or "BA",
        "emphasizeType": data.get("emphasizeType") or "NONE",
        "emphasizeTitle": data.get("emphasizeTitle"),
        "emphasizeSubtitle": emphasized_subtitle(data),
        "securityFlag": bool(data.get("securityFlag")),
        "imageId": data.get("imageId"),
        "variables": [{"name": f"#{{{v}}}"} for v in template_variables(content)],
        "status": status,
        "comments": [],
        "commentable": True,
        "isHidden": False,
        "dateCreated": now,
        "dateUpdated": now,
    }
    state.templates["solapi"][template_id] = template
    return template


def seed(state: SimulatorState) -> None:
    """An approved OTP template so ALIMTALK sends work out of the box."""
    opts = state.options
    if opts.seed_templates:
        make_template(
            state,
            {
                "name": opts.demo_template_name,
                "content": opts.demo_template_content,
                "channelId": opts.solapi_pf_id,
                "categoryCode": "001002",
                "securityFlag": True,
            },
            template_id=opts.demo_template_code,
            status="APPROVED",
        )


def _validate(state: SimulatorState, data: dict[str, Any], creating: bool) -> Response | None:
    if creating:
        missing = [k for k in ("name", "content", "categoryCode") if not data.get(k)]
        if not (data.get("channelId") or data.get("channelGroupId")):
            missing.append("channelId")
        if missing:
            return error("ValidationError", f"필수 항목이 누락되었습니다: {', '.join(missing)}")
        if data.get("channelId") and linked_channel(state, data["channelId"]) is None:
            return error("NotFound", "존재하지 않는 카카오 채널입니다.", 404)
    if "content" in data and len(str(data["content"])) > 1000:
        return error("ValidationError", "템플릿 내용은 1,000자를 넘을 수 없습니다.")
    buttons = data.get("buttons") or []
    if not isinstance(buttons, list) or len(buttons) > 5:
        return error("ValidationError", "버튼은 최대 5개까지 등록할 수 있습니다.")
    for button in buttons:
        if (
            not isinstance(button, dict)
            or not button.get("buttonName")
            or len(str(button["buttonName"])) > 14
        ):
            return error("ValidationError", "버튼 이름은 1~14자여야 합니다.")
    return None


def _find(template_id: str) -> dict[str, Any] | None:
    return get_state().templates["solapi"].get(template_id)


def _not_found(template_id: str) -> Response:
    return error("NotFound", f"템플릿을 찾을 수 없습니다: {template_id}", 404)


@bp.get("/templates/categories")
def categories() -> Response:
    return json_response(CATEGORIES)


@bp.post("/templates")
@synchronized
def create_template() -> Response:
    state = get_state()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error("ValidationError", "JSON 본문이 필요합니다.")
    problem = _validate(state, data, creating=True)
    return problem or json_response(make_template(state, data))


@bp.get("/templates")
@synchronized
def list_templates() -> Response:
    try:
        found = conditions(request.args, FILTERS)
    except QueryError as exc:
        return error("ValidationError", str(exc))
    rows = [t for t in get_state().templates["solapi"].values() if matches(t, found)]
    # isMine=true (sent by the Kotlin SDK) leaves out templates of channels other accounts
    # share with this one.
    if request.args.get("isMine", "").lower() == "true":
        rows = [t for t in rows if t["accountId"] == ACCOUNT_ID]
    return json_response(page(rows, request.args, "templateId", "templateList"))


@bp.get("/templates/<template_id>")
@synchronized
def get_template(template_id: str) -> Response:
    template = _find(template_id)
    return json_response(template) if template else _not_found(template_id)


@bp.put("/templates/<template_id>")
@synchronized
def update_template(template_id: str) -> Response:
    state = get_state()
    template = _find(template_id)
    if template is None:
        return _not_found(template_id)
    if template["status"] not in EDITABLE:
        return error(
            "InvalidTemplateStatus", f"{template['status']} 상태의 템플릿은 수정할 수 없습니다."
        )
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error("ValidationError", "JSON 본문이 필요합니다.")
    problem = _validate(state, data, creating=False)
    if problem:
        return problem
    template.update({k: data[k] for k in _UPDATABLE if k in data})
    if _has_subtitle(data):
        template["emphasizeSubtitle"] = emphasized_subtitle(data)
    template["variables"] = [{"name": f"#{{{v}}}"} for v in template_variables(template["content"])]
    template.update(status="PENDING", dateUpdated=iso_now())
    return json_response(template)


@bp.put("/templates/<template_id>/name")
@synchronized
def rename_template(template_id: str) -> Response:
    template = _find(template_id)
    if template is None:
        return _not_found(template_id)
    name = (request.get_json(silent=True) or {}).get("name")
    if not name:
        return error("ValidationError", "name 이 필요합니다.")
    template.update(name=name, dateUpdated=iso_now())
    return json_response(template)


@bp.delete("/templates/<template_id>")
@synchronized
def delete_template(template_id: str) -> Response:
    template = _find(template_id)
    if template is None:
        return _not_found(template_id)
    if template["status"] not in DELETABLE:
        return error(
            "InvalidTemplateStatus",
            f"{template['status']} 상태의 템플릿은 삭제할 수 없습니다. "
            "대기(PENDING) 또는 반려(REJECTED) 상태만 삭제할 수 있습니다.",
        )
    del get_state().templates["solapi"][template_id]
    return json_response(template)


@bp.put("/templates/<template_id>/inspection")
@synchronized
def request_inspection(template_id: str) -> Response:
    template = _find(template_id)
    if template is None:
        return _not_found(template_id)
    # SOLAPI's example inspect_template.js says only PENDING templates are submitted; REJECTED
    # is accepted as well because Kakao's review rules the console follows (anchors A3) let a
    # rejected template be resubmitted, and nothing published by SOLAPI shows the API refusing it.
    if template["status"] not in EDITABLE:
        return error("InvalidTemplateStatus", "검수 요청은 PENDING/REJECTED 상태에서만 가능합니다.")
    template.update(status="INSPECTING", dateUpdated=iso_now())
    return json_response(template)


@bp.put("/templates/<template_id>/inspection/cancel")
@synchronized
def cancel_inspection(template_id: str) -> Response:
    template = _find(template_id)
    if template is None:
        return _not_found(template_id)
    if template["status"] != "INSPECTING":
        return error(
            "InvalidTemplateStatus",
            "검수 중(INSPECTING)인 템플릿만 검수 요청을 취소할 수 있습니다.",
        )
    template.update(status="PENDING", dateUpdated=iso_now())
    return json_response(template)


def review(
    state: SimulatorState, template_id: str, action: str, comment: str | None
) -> dict[str, Any]:
    """Control API: ``inspect`` -> INSPECTING, ``approve`` -> APPROVED, ``reject`` -> REJECTED."""
    template = state.templates["solapi"].get(template_id)
    if template is None:
        raise KeyError(template_id)
    target = {"inspect": "INSPECTING", "approve": "APPROVED", "reject": "REJECTED"}[action]
    template.update(status=target, dateUpdated=iso_now())
    if comment:
        template["comments"].append(
            {
                "isAdmin": True,
                "memberId": "kakao-reviewer",
                "content": comment,
                "dateCreated": iso_now(),
            }
        )
    return template
