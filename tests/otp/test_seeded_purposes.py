"""The standard purposes an install seeds read in the operator's language until an operator
renames them; editing one in Korean without touching its name keeps the seeded original."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.otp import services as otp
from kmsg_console.otp.models import VerificationPurpose
from tests.form_values import form_values

KOREAN = {"Accept-Language": "ko"}


@pytest.fixture
def purposes(app) -> dict[str, int]:
    with app.app_context():
        otp.ensure_default_purposes()
        db.session.commit()
        return dict(
            db.session.execute(sa.select(VerificationPurpose.code, VerificationPurpose.id)).all()
        )


def _name(app, purpose_id: int) -> str:
    with app.app_context():
        return db.session.get(VerificationPurpose, purpose_id).name


def test_seeded_purposes_read_in_korean(console, purposes):
    console.login(Role.ADMIN)
    listing = console.client.get("/otp/purposes", headers=KOREAN).get_data(as_text=True)
    assert "<td>비밀번호 재설정 <code>password_reset</code>" in listing
    assert "<td>로그인 <code>login</code>" in listing and "Sign-up" not in listing
    page = console.client.get("/otp", headers=KOREAN).get_data(as_text=True)
    assert '<option value="payment">결제 (payment)</option>' in page
    assert "<td>Password reset <code>password_reset</code>" in console.client.get(
        "/otp/purposes"
    ).get_data(as_text=True)


def test_editing_in_korean_keeps_the_seeded_name_unless_it_is_changed(app, console, purposes):
    console.login(Role.ADMIN)
    purpose_id = purposes["signup"]
    page = console.client.get(f"/otp/purposes/{purpose_id}/edit", headers=KOREAN)
    form = form_values(page.get_data(as_text=True))
    assert form["name"] == "회원가입"
    form["lifetime_seconds"] = "240"
    response = console.post(f"/otp/purposes/{purpose_id}/edit", data=form, headers=KOREAN)
    assert response.status_code == 303
    assert _name(app, purpose_id) == "Sign-up"

    form["name"] = "가입 인증"
    console.post(f"/otp/purposes/{purpose_id}/edit", data=form, headers=KOREAN)
    assert _name(app, purpose_id) == "가입 인증"
