"""The default policies an install seeds read in the operator's language until an operator
renames them; editing one in Korean without touching its name keeps the seeded original."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.throttle.models import ThrottlePolicy
from kmsg_console.throttle.services import ensure_default_policies
from tests.form_values import form_values

KOREAN = {"Accept-Language": "ko"}


@pytest.fixture
def seeded(app) -> dict[str, int]:
    with app.app_context():
        ensure_default_policies()
        db.session.commit()
        return dict(db.session.execute(sa.select(ThrottlePolicy.name, ThrottlePolicy.id)).all())


def _stored(app, policy_id: int) -> tuple[str, str]:
    with app.app_context():
        policy = db.session.get(ThrottlePolicy, policy_id)
        return policy.name, policy.description


def test_seeded_policies_read_in_korean(console, seeded):
    console.login(Role.ADMIN)
    listing = console.client.get("/throttle-policies", headers=KOREAN).get_data(as_text=True)
    assert "OTP starts per phone" not in listing and "Global daily cap" not in listing
    assert "전화번호별 OTP 시작" in listing and "전체 일일 한도" in listing
    detail = console.client.get(
        f"/throttle-policies/{seeded['OTP starts per phone']}", headers=KOREAN
    ).get_data(as_text=True)
    assert "<h1>전화번호별 OTP 시작</h1>" in detail
    assert "Telnyx 권고" in detail and "Telnyx guidance" not in detail
    english = console.client.get("/throttle-policies").get_data(as_text=True)
    assert "OTP starts per phone" in english


def test_editing_in_korean_keeps_the_seeded_name_unless_it_is_changed(app, console, seeded):
    console.login(Role.ADMIN)
    policy_id = seeded["OTP starts per IP"]
    page = console.client.get(f"/throttle-policies/{policy_id}/edit", headers=KOREAN)
    form = form_values(page.get_data(as_text=True))
    assert (
        form["name"] == "IP별 OTP 시작" and form["description"] == "클라이언트 IP당 1시간에 10회."
    )
    form["windows-0-max_requests"] = "20"
    response = console.post(f"/throttle-policies/{policy_id}/edit", data=form, headers=KOREAN)
    assert response.status_code == 302
    assert _stored(app, policy_id) == ("OTP starts per IP", "10 per hour per client IP.")

    form["name"] = "IP별 인증 요청"
    console.post(f"/throttle-policies/{policy_id}/edit", data=form, headers=KOREAN)
    assert _stored(app, policy_id)[0] == "IP별 인증 요청"
    english = console.client.get(f"/throttle-policies/{policy_id}").get_data(as_text=True)
    assert "IP별 인증 요청" in english  # the operator's own name, in every language
