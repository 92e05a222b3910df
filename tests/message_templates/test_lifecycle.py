"""The review state machine: every (vendor, status, action) is allowed or refused as specified.

The expectation below is written out independently of ``lifecycle.TRANSITIONS``: it is the
vendor behaviour (simulators, facts §4.3) plus Kakao's rules (anchors A3) in table form.
"""

from __future__ import annotations

import itertools

import pytest

from kmsg_console.message_templates.lifecycle import Action, allowed_actions, decide, refusal_reason
from kmsg_console.message_templates.models import MessageTemplate, ReviewStatus
from kmsg_console.providers.models import Provider

E, D, R, INSP, Y = "edit", "delete", "register", "request_inspection", "sync"
SEND, REV = "send", "sandbox_review"
VENDORS = ("solapi", "aligo", "iwinv", "sandbox")
# fmt: off
EXPECTED = {
    # status:       solapi              aligo               iwinv           sandbox
    "draft":      ({E, D, R},          {E, D, R},          {E, D, R},      {E, D, R}),
    "registered": ({E, D, INSP, Y},    {E, D, INSP, Y},    {D, Y},         {E, D, INSP, Y}),
    "inspecting": ({Y},                {Y},                {D, Y},         {REV, Y}),
    "approved":   ({Y, SEND},          {Y, SEND},          {E, Y, SEND},   {E, Y, SEND}),
    "rejected":   ({E, D, INSP, Y},    {E, D, INSP, Y},    {E, D, Y},      {E, D, INSP, Y}),
    "dormant":    ({Y},                {Y},                {Y},            {Y}),
    "deleted":    (set(),              set(),              set(),          set()),
}
# fmt: on
CASES = [
    (vendor, status, action)
    for status, vendor, action in itertools.product(EXPECTED, VENDORS, Action)
]


def _template(vendor: str | None, status: str | None, kind: str = "ALIMTALK") -> MessageTemplate:
    provider = Provider(code=f"{vendor}-x", name=vendor or "", vendor=vendor) if vendor else None
    return MessageTemplate(kind=kind, name="t", content="x", status=status, provider=provider)


@pytest.mark.parametrize(
    "vendor, status, action", CASES, ids=[f"{v}-{s}-{a.value}" for v, s, a in CASES]
)
def test_every_transition_is_allowed_or_refused_with_a_reason(vendor, status, action):
    expected = action.value in EXPECTED[status][VENDORS.index(vendor)]
    decision = decide(_template(vendor, status), action)
    assert decision.allowed is expected
    if expected:
        assert decision.reason is None
    else:
        assert decision.reason and len(decision.reason) > 20  # an explanation, not a code


def test_reasons_name_the_actual_rule():
    assert "under review" in decide(_template("solapi", "inspecting"), Action.EDIT).reason
    assert "approved" in decide(_template("solapi", "approved"), Action.DELETE).reason
    assert (
        "IWINV submits" in decide(_template("iwinv", "rejected"), Action.REQUEST_INSPECTION).reason
    )
    assert "Register" in decide(_template("aligo", "draft"), Action.REQUEST_INSPECTION).reason
    assert "dormant" in decide(_template("aligo", "dormant"), Action.SEND).reason
    assert "Only an approved" in decide(_template("sandbox", "rejected"), Action.SEND).reason


def test_sms_texts_have_no_review():
    text = _template(None, None, kind="SMS")
    assert {a for a in Action if decide(text, a).allowed} == {
        Action.EDIT,
        Action.DELETE,
        Action.SEND,
    }
    assert "no review" in decide(text, Action.REGISTER).reason


def test_an_alimtalk_draft_without_a_template_provider_cannot_be_registered():
    assert allowed_actions(None, ReviewStatus.DRAFT) == {Action.EDIT, Action.DELETE}
    assert "provider" in refusal_reason(None, ReviewStatus.DRAFT, Action.REGISTER)
