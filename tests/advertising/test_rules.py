"""The advertising rule as the send engine calls it, for what the API cannot reach easily."""

from __future__ import annotations

import pytest

from kmsg_console.messaging.types import Message, MessageType
from kmsg_console.sending import rules
from kmsg_console.sending.models import MessageSource
from kmsg_console.sending.request import SendRequest
from tests.advertising.conftest import AD_TEXT, NOON


def _candidate(kind: MessageType, *, ad: bool) -> rules.Candidate:
    request = SendRequest(to="01012345678", text=AD_TEXT, type=kind.value, ad=ad)
    message = Message(type=kind, to="01012345678", text=AD_TEXT, template_id="T1")
    return rules.Candidate(request, message, ["sandbox"], None, MessageSource.API, now=NOON)


def test_alimtalk_may_not_carry_advertising():
    with pytest.raises(rules.RuleRefusal) as refused:
        rules.check_advertising(_candidate(MessageType.ALIMTALK, ad=True))
    assert (refused.value.status, refused.value.code, refused.value.field) == (
        422,
        "ad_rules",
        "ad",
    )
    assert "AlimTalk" in refused.value.message


def test_a_transactional_alimtalk_is_not_checked():
    rules.check_advertising(_candidate(MessageType.ALIMTALK, ad=False))  # no refusal
