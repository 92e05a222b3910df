"""Error codes of the Korean sending rules (lower case, unlike K-Message's 17 codes).

A message a rule refuses is written to the send log as FAILED with one of these codes and
never reaches a provider; the API answers with the same code. The console explains each one
(``kmsg_console.send_logs.explanations``).
"""

from __future__ import annotations

from enum import StrEnum


class RuleCode(StrEnum):
    """Why a sending rule refused a message."""

    #: The sender number is not registered and verified for the provider (발신번호 사전등록제).
    SENDER_NOT_REGISTERED = "sender_not_registered"
    #: The Kakao sender profile (발신프로필) cannot be used.
    KAKAO_PROFILE_UNUSABLE = "kakao_profile_unusable"
    #: An advertising text lacks its label, sender name or free 080 opt-out line, or its type
    #: may not carry advertising (AlimTalk).
    AD_RULES = "ad_rules"
    #: Advertising at night (21:00–08:00 KST; Kakao FriendTalk 20:00–08:00).
    AD_QUIET_HOURS = "ad_quiet_hours"
    #: Advertising to a number on the opt-out list.
    RECIPIENT_OPTED_OUT = "recipient_opted_out"
    #: The same text to the same number within the duplicate-send window.
    DUPLICATE_MESSAGE = "duplicate_message"


def is_rule_code(code: str | None) -> bool:
    return code in RuleCode._value2member_map_
