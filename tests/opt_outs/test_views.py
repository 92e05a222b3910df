"""The ``/opt-outs`` page: everyone reads, operators change, every change audited."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.opt_outs.models import OptOut


def _add(console, follow_redirects=False, **fields):
    data = {f"new-{name}": value for name, value in fields.items()}
    return console.post("/opt-outs", data=data, follow_redirects=follow_redirects)


def _results(console, query=""):
    """The list part of the page (flash messages above it may name a number too)."""
    page = console.client.get(f"/opt-outs{query}").get_data(as_text=True)
    return page.split('id="results"', 1)[1]


def _count(app, model=OptOut):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _ids(app):
    with app.app_context():
        return db.session.scalars(sa.select(OptOut.id)).all()


def _actions(app):
    with app.app_context():
        return db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_operator_adds_a_number_and_finds_it_by_another_spelling(app, console):
    console.login(Role.OPERATOR)
    response = _add(console, phone="+82 10-1234-5678", scope="", note="by phone")
    assert response.status_code == 302
    page = console.client.get("/opt-outs?phone=01012345678").get_data(as_text=True)
    assert "010-****-5678" in page and "by phone" in page and "All advertising" in page
    # The number shows only in the search box the operator typed it into.
    assert page.count("12345678") == 1 and 'value="01012345678"' in page
    assert "12345678" not in console.client.get("/opt-outs").get_data(as_text=True)
    assert "010-****-5678" not in _results(console, "?phone=010-9999-0000")
    assert _actions(app)[-1] == "opt_out.add"


def test_adding_the_same_number_again_keeps_one_row(app, console):
    console.login(Role.OPERATOR)
    _add(console, phone="010-1234-5678")
    response = _add(console, phone="01012345678", follow_redirects=True)
    assert "already on the list" in response.get_data(as_text=True)
    assert _count(app) == 1
    assert _actions(app).count("opt_out.add") == 1


def test_scoped_opt_outs_are_filtered_by_their_080_line(app, console):
    console.login(Role.OPERATOR)
    _add(console, phone="010-1234-5678", scope="080-123-4567")
    _add(console, phone="010-2222-3333")
    page = _results(console, "?scope=0801234567")
    assert "080-123-4567" in page and "010-****-5678" in page and "010-****-3333" not in page
    page = _results(console, "?scope=global")
    assert "010-****-3333" in page and "010-****-5678" not in page


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"phone": ""}, "This field is required."),
        ({"phone": "02-123-4567"}, "mobile numbers"),
        ({"phone": "010-1234-5678", "scope": "1588-1234"}, "080 number"),
        ({"phone": "010-1234-5678", "note": "x" * 201}, "200"),
    ],
)
def test_bad_input_shows_a_field_error_and_keeps_what_was_typed(app, console, data, error):
    console.login(Role.OPERATOR)
    response = _add(console, **data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error in page and 'class="field has-error"' in page
    if data["phone"]:
        assert (
            f'name="new-phone" placeholder="010-1234-5678" required type="text" value="{data["phone"]}"'
            in page
        )
    assert _count(app) == 0


def test_a_search_that_is_not_a_number_says_so(console):
    console.login(Role.VIEWER)
    response = console.client.get("/opt-outs?phone=1234")
    assert response.status_code == 200
    assert 'role="alert"' in response.get_data(as_text=True)


def test_remove_needs_csrf_and_is_audited(app, console):
    console.login(Role.OPERATOR)
    _add(console, phone="010-1234-5678", scope="080-123-4567")
    (opt_out_id,) = _ids(app)
    assert console.client.post(f"/opt-outs/{opt_out_id}/remove").status_code == 400
    assert _count(app) == 1
    response = console.post(f"/opt-outs/{opt_out_id}/remove")
    assert response.status_code == 302
    assert _count(app) == 0
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "opt_out.remove")
        )
        assert event.details["before"]["phone"] == "010-****-5678"
        assert event.target_type == "opt_out" and event.target_id == str(opt_out_id)


def test_the_remove_button_asks_for_confirmation(console):
    console.login(Role.OPERATOR)
    _add(console, phone="010-1234-5678")
    page = console.client.get("/opt-outs").get_data(as_text=True)
    assert re.search(r'<form[^>]*/remove"[^>]*data-confirm="Remove 010-\*\*\*\*-5678', page)


def test_import_reports_counts_and_invalid_lines_without_their_numbers(app, console):
    console.login(Role.OPERATOR)
    _add(console, phone="010-1111-2222")
    csv = "phone,scope,note\n010-1234-5678,,\n01011112222,,\n010-5555-66,,\n"
    response = console.post(
        "/opt-outs/import",
        data={"file": (io.BytesIO(csv.encode()), "numbers.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Added: 1 · Already on the list: 1 · Invalid rows: 1" in page
    assert "Line 4:" in page and "5555" not in page
    assert _count(app) == 2
    assert _actions(app)[-1] == "opt_out.import"


def test_an_import_without_a_phone_column_is_refused_whole(app, console):
    console.login(Role.OPERATOR)
    response = console.post(
        "/opt-outs/import",
        data={"file": (io.BytesIO(b"number\n010-1234-5678\n"), "numbers.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "phone column" in response.get_data(as_text=True)
    assert _count(app) == 0
    assert "opt_out.import" not in _actions(app)


def test_viewer_reads_but_cannot_change(app, console):
    console.login(Role.OPERATOR)
    _add(console, phone="010-1234-5678")
    (opt_out_id,) = _ids(app)
    console.client.post("/logout", data={"csrf_token": _token(app, console)})
    console.login(Role.VIEWER)
    page = console.client.get("/opt-outs").get_data(as_text=True)
    assert "010-****-5678" in page
    assert 'id="add-opt-out"' not in page and "/remove" not in page
    assert _add(console, phone="010-2222-3333").status_code == 403
    assert console.post(f"/opt-outs/{opt_out_id}/remove").status_code == 403
    assert console.post("/opt-outs/import", data={}).status_code == 403
    assert _count(app) == 1


def _token(app, console):
    from tests.conftest import csrf_token_for

    return csrf_token_for(app, console.client)


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/opt-outs")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_nav_links_to_the_list(console):
    console.login(Role.VIEWER)
    assert 'href="/opt-outs"' in console.client.get("/").get_data(as_text=True)


def test_audit_log_names_opt_out_actions(console):
    console.login(Role.ADMIN)
    _add(console, phone="010-1234-5678", scope="080-123-4567")
    page = console.client.get("/audit-log").get_data(as_text=True)
    assert "Added to the opt-out list" in page
    assert "080-123-4567" in page and "010-****-5678" in page
