"""IWINV AlimTalk template API: list, add, modify, delete (same ``AUTH`` as sends).

A new template goes straight to inspection (``I``); Kakao's verdict (``Y`` approved, ``R``
rejected with ``templateStatusComments``) is given through the control API. A template
under inspection cannot be modified. Vendor button shape: type WL|AL|DB|BK|MD, name <= 15
characters, WL needs ``linkMo``, AL needs ``linkIos`` and ``linkAnd``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from .common import as_int, fmt_datetime, json_response
from .iwinv_alimtalk import CONTENT_TYPE, answer, authenticate, body
from .state import SimulatorState, get_state, synchronized

bp = Blueprint("sim_iwinv_templates", __name__, url_prefix="/iwinv/alimtalk")
bp.before_request(authenticate)

STATUS_NAMES = {"Y": "승인", "I": "검수중", "R": "반려"}
BUTTON_TYPES = {"WL", "AL", "DB", "BK", "MD"}


def make_template(
    state: SimulatorState,
    name: str,
    content: str,
    buttons: list[Any],
    code: str | None = None,
    status: str = "I",
) -> dict[str, Any]:
    code = code or str(state.next_number("iwinv_template", 20001))
    template = {
        "templateCode": code,
        "templateName": name,
        "templateContent": content,
        "status": status,
        "templateStatusMsg": STATUS_NAMES[status],
        "templateStatusComments": "",
        "createDate": fmt_datetime(),
        "buttons": buttons,
    }
    state.templates["iwinv_alimtalk"][code] = template
    return template


def seed(state: SimulatorState) -> None:
    opts = state.options
    if opts.seed_templates:
        make_template(
            state,
            opts.demo_template_name,
            opts.demo_template_content,
            [],
            code=opts.demo_template_code,
            status="Y",
        )


def _check_buttons(buttons: Any) -> bool:
    """Vendor button shape: type WL|AL|DB|BK|MD, name <= 15, WL needs linkMo, AL linkIos+linkAnd."""
    if not isinstance(buttons, list) or len(buttons) > 5:
        return False
    for b in buttons:
        if not isinstance(b, dict) or b.get("type") not in BUTTON_TYPES or not b.get("name"):
            return False
        if len(str(b["name"])) > 15:
            return False
        if b["type"] == "WL" and not b.get("linkMo"):
            return False
        if b["type"] == "AL" and not (b.get("linkIos") and b.get("linkAnd")):
            return False
    return True


def _check_template_fields(name: Any, content: Any, buttons: Any) -> Response | None:
    if not name or not content:
        return answer(502)
    if len(str(name)) > 15:
        return answer(510)
    if len(str(content)) > 1000:
        return answer(511)
    if not _check_buttons(buttons):
        return answer(514)
    return None


@bp.post("/api/template/")
@synchronized
def list_templates() -> Response:
    data = body()
    rows = list(get_state().templates["iwinv_alimtalk"].values())
    if data.get("templateCode"):
        rows = [t for t in rows if t["templateCode"] == str(data["templateCode"])]
    if data.get("templateName"):
        rows = [t for t in rows if str(data["templateName"]) in t["templateName"]]
    if data.get("templateStatus"):
        rows = [t for t in rows if t["status"] == data["templateStatus"]]
    page, size = (
        max(1, as_int(data.get("pageNum"), 1)),
        max(1, min(as_int(data.get("pageSize"), 15), 1000)),
    )
    return answer(
        200, "조회 성공", totalCount=len(rows), list=rows[(page - 1) * size : page * size]
    )


@bp.post("/api/template/add/")
@synchronized
def add_template() -> Response:
    data = body()
    buttons = data.get("buttons") or []
    problem = _check_template_fields(data.get("templateName"), data.get("templateContent"), buttons)
    if problem:
        return problem
    # A new IWINV template goes straight to inspection ("I").
    template = make_template(
        get_state(), str(data["templateName"]), str(data["templateContent"]), buttons
    )
    return answer(200, "템플릿 등록 성공", templateCode=template["templateCode"])


@bp.post("/api/template/modify/")
@synchronized
def modify_template() -> Response:
    data = body()
    template = get_state().templates["iwinv_alimtalk"].get(str(data.get("templateCode") or ""))
    if template is None:
        return answer(404)
    if template["status"] == "I":
        return answer(512)
    buttons = data.get("buttons", template["buttons"]) or []
    name, content = data.get("templateName"), data.get("templateContent")
    problem = _check_template_fields(name, content, buttons)
    if problem:
        return problem
    template.update(
        templateName=str(name),
        templateContent=str(content),
        buttons=buttons,
        status="I",
        templateStatusMsg=STATUS_NAMES["I"],
        templateStatusComments="",
    )
    return answer(200, "템플릿 수정 성공")


@bp.post("/api/template/delete/")
@synchronized
def delete_template() -> Response:
    data = body()
    templates = get_state().templates["iwinv_alimtalk"]
    if templates.pop(str(data.get("templateCode") or ""), None) is None:
        return answer(404)
    # The real vendor misspells "message" here; k-msg tolerates it, so adapters must too.
    return json_response({"code": 200, "messgae": "템플릿 삭제 성공"}, content_type=CONTENT_TYPE)


def review(state: SimulatorState, code: str, action: str, comment: str | None) -> dict[str, Any]:
    """Control API: ``inspect`` -> I, ``approve`` -> Y, ``reject`` -> R (comment kept)."""
    template = state.templates["iwinv_alimtalk"].get(code)
    if template is None:
        raise KeyError(code)
    status = {"inspect": "I", "approve": "Y", "reject": "R"}[action]
    template.update(
        status=status,
        templateStatusMsg=STATUS_NAMES[status],
        templateStatusComments=comment or ("" if status != "R" else "반려"),
    )
    return template
