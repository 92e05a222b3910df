"""The audit log page in Korean: readable actions and changes, not JSON."""

from __future__ import annotations

import re

from kmsg_console.extensions import db
from kmsg_console.message_templates import services as templates
from kmsg_console.message_templates.validation import TemplateData
from kmsg_console.operators.models import Role


def test_korean_audit_page_shows_changes_unescaped_with_translated_actions(app, console):
    console.login(Role.ADMIN)
    with app.test_request_context():
        template = templates.create_template(
            TemplateData(kind="SMS", name="배송 안내", content="[샵] 상품이 출발했습니다."),
            None,
            actor=None,
        )
        db.session.flush()
        templates.update_template(
            template,
            TemplateData(kind="SMS", name="배송 안내", content="[샵] 상품이 오늘 도착합니다."),
            None,
            actor=None,
        )
        db.session.commit()

    html = console.client.get(
        "/audit-log?action=template.", headers={"Accept-Language": "ko"}
    ).get_data(as_text=True)
    assert "\\u" not in html and "&#34;" not in html  # no JSON left on the page
    assert '<span class="action-label">템플릿 수정</span>' in html
    assert '<span class="action-label">템플릿 생성</span>' in html
    assert "<td>템플릿 " in html  # the target type is named too
    change = re.search(
        r'<span class="audit-field">본문:</span>\s*<span class="audit-before">([^<]*)</span>'
        r' → <span class="audit-after">([^<]*)</span>',
        html,
    )
    assert change and change.groups() == (
        "[샵] 상품이 출발했습니다.",
        "[샵] 상품이 오늘 도착합니다.",
    )
    assert '<span class="audit-field">이름:</span>' in html
    assert '<span class="audit-value">배송 안내</span>' in html
