"""The review state machine: which action each vendor allows in each normalized state.

Kakao's rules (anchors A3) are the baseline: a template under review cannot be changed, an
approved template is never deleted from the console, inspection is requested only from
"registered" or "rejected". Each vendor then narrows or shifts them:

- SOLAPI and Aligo edit only registered/rejected templates (the edit sends them back to
  "registered") and need an explicit inspection request;
- IWINV submits a template at registration (it starts "under review"), has no inspection
  request, edits approved/rejected templates (the edit re-enters review) and may delete one
  under review;
- the sandbox follows Kakao's rules as written and is reviewed by an operator ("approve
  (sandbox)" / "reject (sandbox)") instead of Kakao.

``TRANSITIONS`` is the whole table; :func:`decide` reads it and says why an action is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kmsg_console.i18n_markers import N_

from .models import MessageTemplate, ReviewStatus


class Action(StrEnum):
    EDIT = "edit"
    DELETE = "delete"
    REGISTER = "register"
    REQUEST_INSPECTION = "request_inspection"
    SYNC = "sync"
    SEND = "send"
    SANDBOX_REVIEW = "sandbox_review"

    @property
    def label(self) -> str:
        return {
            Action.EDIT: N_("Edit"),
            Action.DELETE: N_("Delete"),
            Action.REGISTER: N_("Register with the provider"),
            Action.REQUEST_INSPECTION: N_("Request inspection"),
            Action.SYNC: N_("Sync now"),
            Action.SEND: N_("Send"),
            Action.SANDBOX_REVIEW: N_("Review (sandbox)"),
        }[self]


A = Action
S = ReviewStatus

#: vendor → status → allowed actions. Draft, dormant and deleted rows are the same everywhere.
_COMMON = {
    S.DRAFT: frozenset({A.EDIT, A.DELETE, A.REGISTER}),
    S.DORMANT: frozenset({A.SYNC}),
    S.DELETED: frozenset(),
}
TRANSITIONS: dict[str, dict[ReviewStatus, frozenset[Action]]] = {
    "solapi": {
        **_COMMON,
        S.REGISTERED: frozenset({A.EDIT, A.DELETE, A.REQUEST_INSPECTION, A.SYNC}),
        S.INSPECTING: frozenset({A.SYNC}),
        S.APPROVED: frozenset({A.SYNC, A.SEND}),
        S.REJECTED: frozenset({A.EDIT, A.DELETE, A.REQUEST_INSPECTION, A.SYNC}),
    },
    "aligo": {
        **_COMMON,
        S.REGISTERED: frozenset({A.EDIT, A.DELETE, A.REQUEST_INSPECTION, A.SYNC}),
        S.INSPECTING: frozenset({A.SYNC}),
        S.APPROVED: frozenset({A.SYNC, A.SEND}),
        S.REJECTED: frozenset({A.EDIT, A.DELETE, A.REQUEST_INSPECTION, A.SYNC}),
    },
    "iwinv": {
        **_COMMON,
        S.REGISTERED: frozenset({A.DELETE, A.SYNC}),
        S.INSPECTING: frozenset({A.DELETE, A.SYNC}),
        S.APPROVED: frozenset({A.EDIT, A.SYNC, A.SEND}),
        S.REJECTED: frozenset({A.EDIT, A.DELETE, A.SYNC}),
    },
    "sandbox": {
        **_COMMON,
        S.REGISTERED: frozenset({A.EDIT, A.DELETE, A.REQUEST_INSPECTION, A.SYNC}),
        S.INSPECTING: frozenset({A.SANDBOX_REVIEW, A.SYNC}),
        S.APPROVED: frozenset({A.EDIT, A.SYNC, A.SEND}),
        S.REJECTED: frozenset({A.EDIT, A.DELETE, A.REQUEST_INSPECTION, A.SYNC}),
    },
}

#: Where an accepted edit leaves the template, per vendor and starting status.
EDIT_RESULT: dict[str, dict[ReviewStatus, ReviewStatus]] = {
    "solapi": {S.REGISTERED: S.REGISTERED, S.REJECTED: S.REGISTERED},
    "aligo": {S.REGISTERED: S.REGISTERED, S.REJECTED: S.REGISTERED},
    "iwinv": {S.APPROVED: S.INSPECTING, S.REJECTED: S.INSPECTING},
    "sandbox": {S.REGISTERED: S.REGISTERED, S.APPROVED: S.INSPECTING, S.REJECTED: S.INSPECTING},
}

#: Actions of SMS/LMS texts, which need no review.
TEXT_ACTIONS = frozenset({A.EDIT, A.DELETE, A.SEND})

# Why an action is unavailable: (action, status) first, then the vendor-specific override.
_REASONS: dict[tuple[Action, ReviewStatus | None], str] = {
    (A.REGISTER, None): N_("Only a draft is registered; this template is already at the provider."),
    (A.REQUEST_INSPECTION, S.DRAFT): N_("Register the template with the provider first."),
    (A.REQUEST_INSPECTION, S.INSPECTING): N_("The template is already under review."),
    (A.REQUEST_INSPECTION, S.APPROVED): N_("The template is already approved."),
    (A.REQUEST_INSPECTION, None): N_(
        "Inspection can be requested only for a registered or rejected template."
    ),
    (A.EDIT, S.INSPECTING): N_(
        "A template under review cannot be changed; wait for Kakao's decision."
    ),
    (A.EDIT, S.APPROVED): N_(
        "This provider does not allow changing an approved template; create a new one."
    ),
    (A.EDIT, None): N_("The template cannot be changed in this state."),
    (A.DELETE, S.APPROVED): N_(
        "An approved template may be in use by senders; it is not deleted from the console."
    ),
    (A.DELETE, S.INSPECTING): N_(
        "A template under review cannot be deleted; wait for Kakao's decision."
    ),
    (A.DELETE, None): N_("The template cannot be deleted in this state."),
    (A.SYNC, S.DRAFT): N_("A draft exists only in the console; there is nothing to sync."),
    (A.SYNC, None): N_("There is nothing to sync for a deleted template."),
    (A.SEND, S.DORMANT): N_(
        "Kakao made this template dormant; reactivate it in the provider's console, then sync."
    ),
    (A.SEND, None): N_("Only an approved template can be sent."),
    (A.SANDBOX_REVIEW, None): N_(
        "Only a sandbox template under review can be approved or rejected here."
    ),
}
_VENDOR_REASONS: dict[tuple[str, Action, ReviewStatus | None], str] = {
    ("iwinv", A.REQUEST_INSPECTION, None): N_(
        "IWINV submits every template for review when it is registered."
    ),
    ("iwinv", A.EDIT, S.REGISTERED): N_("IWINV changes only approved or rejected templates."),
}
_DORMANT = N_(
    "Kakao made this template dormant; reactivate it in the provider's console, then sync."
)
_TEXT_REASON = N_("SMS/LMS templates need no review by Kakao.")
_NO_PROVIDER = N_("Choose a provider that manages AlimTalk templates first.")


@dataclass(frozen=True)
class Decision:
    """Whether an action is allowed now; ``reason`` (an ``N_`` string) says why not."""

    allowed: bool
    reason: str | None = None


def vendor_of(template: MessageTemplate) -> str | None:
    return template.vendor


def allowed_actions(vendor: str | None, status: ReviewStatus | None) -> frozenset[Action]:
    """The table lookup: AlimTalk templates by vendor and status (unknown vendor: none)."""
    if status is None:
        return TEXT_ACTIONS
    table = TRANSITIONS.get(vendor or "")
    if table is None:
        return _COMMON[status] - {A.REGISTER} if status in _COMMON else frozenset()
    return table.get(status, frozenset())


def refusal_reason(vendor: str | None, status: ReviewStatus | None, action: Action) -> str:
    """Why ``action`` is not available (an ``N_`` string, translated where shown)."""
    if status is None:
        return _TEXT_REASON
    if status is S.DORMANT:
        return _DORMANT
    if vendor not in TRANSITIONS:
        return _NO_PROVIDER
    for key in ((vendor, action, status), (vendor, action, None)):
        if key in _VENDOR_REASONS:
            return _VENDOR_REASONS[key]
    return _REASONS.get((action, status)) or _REASONS[(action, None)]


def decide(template: MessageTemplate, action: Action) -> Decision:
    """Is ``action`` allowed for ``template`` in its current state?"""
    status = template.status_enum if template.is_alimtalk else None
    vendor = vendor_of(template)
    if action in allowed_actions(vendor, status):
        return Decision(True)
    return Decision(False, refusal_reason(vendor, status, action))


def actions_for(template: MessageTemplate) -> dict[Action, Decision]:
    """Every action with its decision, for the detail page's buttons."""
    return {action: decide(template, action) for action in Action}
