"""The /templates pages: roles, forms (422 keeps input), preview fragment, actions, audit, test send."""

from __future__ import annotations

import html as html_lib
import re

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.message_templates.models import MessageTemplate
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from tests.message_templates.conftest import provider_settings

FORM = {
    "kind": "ALIMTALK",
    "provider": "sandbox",
    "name": "배송 시작",
    "category": "SHIPPING",
    "content": "#{name}님, 주문하신 상품이 출발했습니다.\n송장번호: #{invoice}",
    "message_type": "BA",
    "emphasis_type": "NONE",
    "samples": "name=홍길동\ninvoice=1234-5678",
    "buttons-0-type": "DS",
    "buttons-0-name": "배송 조회",
}


@pytest.fixture
def sandbox(app):
    with app.app_context():
        provider_services.ensure_sandbox_provider()
        db.session.commit()


def _template(app, template_id=1) -> MessageTemplate:
    with app.app_context():
        template = db.session.get(MessageTemplate, template_id)
        db.session.expunge(template)
        return template


def _errors(response) -> list[str]:
    return re.findall(r'<p class="error"[^>]*>([^<]+)</p>', response.get_data(as_text=True))


def test_operator_writes_a_template_and_walks_it_through_sandbox_review(app, console, sandbox):
    console.login(Role.OPERATOR)
    created = console.post("/templates/new", data=FORM)
    assert created.status_code == 303 and created.headers["Location"] == "/templates/1"
    page = console.client.get("/templates/1").get_data(as_text=True)
    assert "Only a draft is registered" not in page and 'data-action="register"' in page
    assert "Register the template with the provider first." in page  # why inspection is unavailable
    assert console.post("/templates/1/register").status_code == 303
    assert console.post("/templates/1/inspection").status_code == 303
    rejected = console.post(
        "/templates/1/review", data={"reject": "1", "comment": "송장 변수 설명 필요"}
    )
    assert rejected.status_code == 303 and _template(app).status == "rejected"
    page = console.client.get("/templates/1").get_data(as_text=True)
    assert 'id="review-comments"' in page and "송장 변수 설명 필요" in page
    edited = console.post(
        "/templates/1/edit", data={**FORM, "content": FORM["content"] + " 감사합니다."}
    )
    assert edited.status_code == 303 and _template(app).status == "inspecting"
    console.post("/templates/1/review", data={"approve": "1"})
    assert _template(app).status == "approved"
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.action.startswith("template."))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "template.create",
        "template.register",
        "template.request_inspection",
        "template.sandbox_review",
        "template.update",
        "template.sandbox_review",
    ]


def test_bad_input_rerenders_with_field_errors_and_keeps_what_was_typed(app, console, sandbox):
    console.login(Role.OPERATOR)
    bad = {
        **FORM,
        "name": "",
        "buttons-1-type": "WL",
        "buttons-1-name": "보기",
        "buttons-1-link_mobile": "nope",
    }
    response = console.post("/templates/new", data=bad)
    assert response.status_code == 422
    assert {"Enter a name.", "Enter a full URL starting with http:// or https://."} <= set(
        _errors(response)
    )
    page = response.get_data(as_text=True)
    assert "송장번호: #{invoice}" in page and 'value="nope"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageTemplate)) == 0


def test_preview_fragment_draws_the_bubble_with_sample_values(console, sandbox):
    console.login(Role.OPERATOR)
    response = console.htmx_post("/templates/preview", data={**FORM, "samples": "name=홍길동"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<h1" not in html
    assert 'class="kakao-bubble"' in html and "AlimTalk received" in html
    assert '<mark class="kakao-var" title="#{name}">홍길동</mark>' in html
    assert '<mark class="kakao-var missing">#{invoice}</mark>' in html
    assert 'class="kakao-button" data-type="DS">배송 조회<' in html
    sms = console.htmx_post(
        "/templates/preview", data={"kind": "SMS", "name": "x", "content": "가" * 50}
    )
    assert 'data-preview="text"' in sms.get_data(as_text=True) and "Use LMS" in sms.get_data(
        as_text=True
    )


def test_viewer_reads_but_cannot_write(app, console, sandbox):
    console.login(Role.OPERATOR, email="op@example.com")
    console.post("/templates/new", data=FORM)
    console.client.post("/logout", data={})
    console.client.delete_cookie("kmsg_session")
    console.login(Role.VIEWER)
    listing = console.client.get("/templates")
    assert listing.status_code == 200 and "배송 시작" in listing.get_data(as_text=True)
    assert "New template" not in listing.get_data(as_text=True)
    detail = console.client.get("/templates/1").get_data(as_text=True)
    assert 'id="template-actions"' not in detail and "History" in detail
    assert console.client.get("/templates/new").status_code == 403
    assert console.post("/templates/1/register").status_code == 403
    assert console.post("/templates/1/delete").status_code == 403


def test_list_filters_and_counts(app, console, sandbox):
    console.login(Role.OPERATOR)
    console.post("/templates/new", data=FORM)
    console.post("/templates/new", data={**FORM, "name": "가입 환영", "plus_id": "@kmsgshop"})
    console.post(
        "/templates/new",
        data={
            "kind": "SMS",
            "name": "SMS 안내",
            "content": "안내 #{name}",
            "message_type": "BA",
            "emphasis_type": "NONE",
        },
    )
    console.post("/templates/2/register")
    page = console.client.get("/templates").get_data(as_text=True)
    counts = dict(
        re.findall(
            r'data-status="([a-z]+)">\s*<span class="badge[^"]*">[^<]+</span> <strong>(\d+)', page
        )
    )
    assert (counts["draft"], counts["registered"], counts["text"]) == ("1", "1", "1")
    filtered = console.client.get("/templates?status=registered", headers={"HX-Request": "true"})
    rows = re.findall(r'<tr id="template-(\d+)"', filtered.get_data(as_text=True))
    assert rows == ["2"] and "<h1" not in filtered.get_data(as_text=True)
    by_channel = console.client.get("/templates?channel=@kmsgshop").get_data(as_text=True)
    assert re.findall(r'<tr id="template-(\d+)"', by_channel) == ["2"]
    by_kind = console.client.get("/templates?kind=SMS").get_data(as_text=True)
    assert re.findall(r'<tr id="template-(\d+)"', by_kind) == ["3"]


def test_refused_action_explains_itself_and_touches_nothing(app, console, sandbox):
    console.login(Role.OPERATOR)
    console.post("/templates/new", data=FORM)
    response = console.post("/templates/1/inspection")
    assert response.status_code == 303
    page = console.client.get("/templates/1").get_data(as_text=True)
    assert "Register the template with the provider first." in page
    assert _template(app).status == "draft"


def test_test_send_refuses_a_missing_variable_then_sends(app, console, sandbox):
    console.login(Role.OPERATOR)
    console.post("/templates/new", data=FORM)
    for step in ("register", "inspection"):
        console.post(f"/templates/1/{step}")
    console.post("/templates/1/review", data={"approve": "1"})
    missing = console.htmx_post(
        "/templates/1/test-send", data={"to": "010-1234-5678", "var_0": "홍길동"}
    )
    assert missing.status_code == 422
    assert _errors(missing) == ["Enter a value for #{invoice}."]
    assert "<h1" not in missing.get_data(as_text=True)
    sent = console.htmx_post(
        "/templates/1/test-send", data={"to": "010-1234-5678", "var_0": "홍길동", "var_1": "1234"}
    )
    html = sent.get_data(as_text=True)
    assert sent.status_code == 200
    message_id = re.search(r'href="/send-logs/([0-9a-f-]{36})"', html).group(1)
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "template.test_send")
        )
        assert event.details["message_id"] == message_id and event.details["to"] == "010-****-5678"
        assert "01012345678" not in str(event.details)


def _approved(console, form=FORM) -> None:
    console.post("/templates/new", data=form)
    for step in ("register", "inspection"):
        console.post(f"/templates/1/{step}")
    console.post("/templates/1/review", data={"approve": "1"})


def _field_errors(response) -> dict[str, list[str]]:
    """Errors per input name, for the fields that have any."""
    html = response.get_data(as_text=True)
    found = {}
    for block in re.findall(r'<div class="field has-error">(.*?)</div>', html, re.S):
        name = re.search(r'name="([^"]+)"', block).group(1)
        found[name] = re.findall(r'<p class="error"[^>]*>([^<]+)</p>', block)
    return found


def test_each_missing_variable_is_flagged_once_under_its_own_field(app, console, sandbox):
    console.login(Role.OPERATOR)
    _approved(console)
    missing = console.htmx_post("/templates/1/test-send", data={"to": "010-1234-5678"})
    assert missing.status_code == 422
    assert _field_errors(missing) == {
        "var_0": ["Enter a value for #{name}."],
        "var_1": ["Enter a value for #{invoice}."],
    }


def test_a_test_send_from_the_page_updates_last_sent(app, console, sandbox):
    console.login(Role.OPERATOR)
    _approved(console)
    page = console.client.get("/templates/1").get_data(as_text=True)
    assert re.search(r'<dd id="template-last-send">\s*<span class="muted">never', page)
    sent = console.htmx_post(
        "/templates/1/test-send", data={"to": "010-1234-5678", "var_0": "홍길동", "var_1": "1"}
    )
    html = sent.get_data(as_text=True)
    message_id = re.search(
        r'id="test-send-result">.*?href="/send-logs/([0-9a-f-]{36})"', html, re.S
    )
    last_send = re.search(r'<dd id="template-last-send" hx-swap-oob="true">(.*?)</dd>', html, re.S)
    assert message_id and last_send
    assert f'href="/send-logs/{message_id.group(1)}"' in last_send.group(1)


def test_comments_of_an_earlier_review_are_labeled_once_the_template_is_approved(
    app, console, simulator
):
    console.login(Role.OPERATOR)
    with app.test_request_context():
        provider_services.save_provider(
            None,
            vendor="aligo",
            code="aligo-main",
            name="Aligo",
            values=provider_settings(simulator, "aligo"),
            enabled=True,
            actor=None,
        )
        db.session.commit()
    form = {**FORM, "provider": "aligo-main"}
    console.post("/templates/new", data=form)
    console.post("/templates/1/register")
    console.post("/templates/1/inspection")
    simulator.control.reject_template("aligo_kakao", _template(app).vendor_code, "송장 설명 필요")
    console.post("/templates/1/sync")
    rejected = console.client.get("/templates/1").get_data(as_text=True)
    current = re.search(r'<ul class="review-current">(.*?)</ul>', rejected, re.S)
    assert current and "송장 설명 필요" in current.group(1)
    assert "Kakao (Aligo)" in current.group(1)  # Kakao wrote it, not the operator who synced
    assert "From an earlier review" not in rejected

    console.post("/templates/1/edit", data={**form, "content": FORM["content"] + " 감사합니다."})
    console.post("/templates/1/inspection")
    simulator.control.approve_template("aligo_kakao", _template(app).vendor_code)
    console.post("/templates/1/sync")
    assert _template(app).status == "approved"
    approved = console.client.get("/templates/1").get_data(as_text=True)
    section = re.search(r'<section[^>]*id="review-comments"[^>]*>(.*?)</section>', approved, re.S)
    assert section is not None
    assert 'class="review-current"' not in section.group(1)
    assert "Reviewer's comments" not in section.group(1)
    earlier = re.search(r"From an earlier review.*?<ul[^>]*>(.*?)</ul>", section.group(1), re.S)
    assert earlier and "송장 설명 필요" in earlier.group(1)


def test_provider_sync_from_the_list(app, console, sandbox, simulator):
    console.login(Role.ADMIN)
    console.post(
        "/providers/new?vendor=iwinv",
        data={
            "code": "iwinv-main",
            "name": "IWINV",
            "enabled": "y",
            "cfg_api_key": "demo-api-key",
            "cfg_alimtalk_base_url": simulator.url("iwinv_alimtalk"),
            "cfg_sms_base_url": simulator.url("iwinv_sms"),
        },
    )
    response = console.post("/templates/sync", data={"provider": "iwinv-main"})
    assert response.status_code == 303
    page = console.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 imported" in page and "KMSG_OTP_001" in page


def test_sandbox_rejection_needs_a_comment_and_edit_waits_for_the_review(app, console, sandbox):
    console.login(Role.OPERATOR)
    console.post("/templates/new", data=FORM)
    console.post("/templates/1/register")
    console.post("/templates/1/inspection")
    refused = console.post("/templates/1/review", data={"reject": "1", "comment": " "})
    assert refused.status_code == 422
    assert "A rejection needs a comment for the author." in _errors(refused)
    assert _template(app).status == "inspecting"
    blocked = console.client.get("/templates/1/edit")
    assert blocked.status_code == 303 and blocked.headers["Location"] == "/templates/1"
    page = console.client.get("/templates/1").get_data(as_text=True)
    assert "A template under review cannot be changed" in page


# -- Kakao's category list -------------------------------------------------------------------

CATEGORY_PATH = "/kakao/v2/templates/categories"


def _add_provider(app, simulator, vendor: str) -> str:
    with app.test_request_context():
        provider = provider_services.save_provider(
            None,
            vendor=vendor,
            code=f"{vendor}-main",
            name=vendor.upper(),
            values=provider_settings(simulator, vendor),
            enabled=True,
            actor=None,
        )
        db.session.commit()
        return provider.code


def _category_field(html: str) -> str:
    match = re.search(r'<div id="category-code-field"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    return match.group(1) if match else html


def test_the_category_code_is_chosen_from_the_vendors_list(app, console, simulator):
    console.login(Role.OPERATOR)
    solapi = _add_provider(app, simulator, "solapi")
    fragment = console.client.get(
        f"/templates/category-code?provider={solapi}", headers={"HX-Request": "true"}
    )
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert '<select id="category_code" name="category_code"' in html
    assert '<option value="001002">회원 &gt; 인증/비밀번호/로그인 (001002)</option>' in html
    created = console.post(
        "/templates/new", data={**FORM, "provider": solapi, "category_code": "004001"}
    )
    assert created.status_code == 303 and _template(app).category_code == "004001"
    edit = console.client.get("/templates/1/edit").get_data(as_text=True)
    assert '<option selected value="004001">' in _category_field(edit)


def test_a_vendor_without_a_category_list_keeps_the_typed_code(app, console, simulator, sandbox):
    console.login(Role.OPERATOR)
    aligo = _add_provider(app, simulator, "aligo")
    for provider in (aligo, "sandbox", ""):
        html = console.client.get(
            f"/templates/category-code?provider={provider}&category_code=001002",
            headers={"HX-Request": "true"},
        ).get_data(as_text=True)
        assert '<input id="category_code"' in html and 'value="001002"' in html, provider
        assert "Could not read" not in html


def test_an_unreachable_vendor_falls_back_to_typing_the_code(app, console, simulator):
    console.login(Role.OPERATOR)
    solapi = _add_provider(app, simulator, "solapi")
    simulator.control.inject("solapi", "status_5xx", path=CATEGORY_PATH, count=None)
    page = console.client.get("/templates/new").get_data(as_text=True)
    assert '<input id="category_code"' in _category_field(page)  # no provider chosen yet
    refused = console.post(
        "/templates/new", data={**FORM, "provider": solapi, "category_code": "", "name": ""}
    )
    field = html_lib.unescape(_category_field(refused.get_data(as_text=True)))
    assert refused.status_code == 422
    assert '<input id="category_code"' in field
    assert "Could not read the category list from SOLAPI" in field
    assert "SOLAPI needs Kakao's category code" in field  # the field's own error stays


def test_only_writers_read_the_category_field(app, console, simulator):
    console.login(Role.VIEWER)
    assert console.client.get("/templates/category-code?provider=").status_code == 403


def test_the_category_field_opened_as_a_page_leads_to_the_form(app, console):
    console.login(Role.OPERATOR)
    response = console.client.get("/templates/category-code")
    assert response.status_code == 303 and response.headers["Location"] == "/templates/new"
