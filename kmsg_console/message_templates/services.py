"""Template registry rules: write, register, follow the review, sync, send.

Every operation checks the review state machine first (:mod:`.lifecycle`, re-exported here
as ``TRANSITIONS``/``decide``), then validates, then talks to the vendor through a gateway,
and finally records the history entry and the audit event. Services only flush; the view
(or the sync job) commits. A vendor refusal is raised as :class:`TemplateError` with
``persist=True``: the caller commits anyway so the history and the audit keep the refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kmsg_console.audit.services import diff, record_audit
from kmsg_console.events import outbox
from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.kakao_channels import services as profile_services
from kmsg_console.kakao_channels.usage import registered
from kmsg_console.orm import utcnow
from kmsg_console.providers.models import Provider

from . import vendors
from .lifecycle import TRANSITIONS, Action, Decision, actions_for, decide  # noqa: F401 - the state table
from .models import MessageTemplate, MessageTemplateEvent, ReviewStatus, TemplateKind
from .validation import Issue, TemplateData, errors, validate, variables_of

logger = logging.getLogger(__name__)

CHECK_FIELDS = N_("Check the highlighted fields.")
#: Fixed history notes (translated where shown; anything else in a note is vendor data).
TEXT_CHANGED = N_("The text was changed at the provider.")
NOT_AT_VENDOR = N_("The provider no longer has this template.")
IMPORTED = N_("Found at the provider by a sync.")
HISTORY_NOTES = frozenset({TEXT_CHANGED, NOT_AT_VENDOR, IMPORTED})

#: Fields an edit may change (and the audit diff compares).
EDITABLE_FIELDS = (
    "name",
    "content",
    "sender_profile",
    "plus_id",
    "category",
    "category_code",
    "message_type",
    "emphasis_type",
    "emphasis_title",
    "emphasis_subtitle",
    "extra_info",
    "buttons",
    "security_flag",
    "sample_values",
)


class TemplateError(Exception):
    """An operation that cannot go ahead.

    ``message`` is an ``N_`` string with ``params`` (translated where shown), ``issues`` the
    validation problems for the form, ``persist`` True when the history/audit entry written
    before raising must be committed (a vendor refusal).
    """

    def __init__(
        self,
        message: str,
        *,
        params: Mapping[str, Any] | None = None,
        issues: list[Issue] | None = None,
        persist: bool = False,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.params = dict(params or {})
        self.issues = issues or []
        self.persist = persist
        self.field = field


def _label(actor: Any) -> str:
    return getattr(actor, "email", None) or "system"


def kakao_reviewer(template: MessageTemplate) -> str:
    """Who wrote the review comments a vendor relays: Kakao, through the template's vendor."""
    from kmsg_console.providers.adapters.registry import ADAPTERS

    adapter = ADAPTERS.get(template.vendor or "")
    return f"Kakao ({adapter.label})" if adapter is not None else "Kakao"


def _event(
    template: MessageTemplate,
    kind: str,
    detail: str | None = None,
    *,
    actor: Any = None,
    from_status: str | None = None,
    to_status: str | None = None,
    author: str | None = None,
) -> None:
    """Append a history entry, credited to ``author`` when given, else to ``actor``."""
    template.events.append(
        MessageTemplateEvent(
            at=utcnow(),
            kind=kind,
            detail=(detail or "")[:500] or None,
            actor_label=author or _label(actor),
            from_status=from_status,
            to_status=to_status,
            vendor_status=template.vendor_status,
        )
    )


def _audit(
    action: str, template: MessageTemplate, actor: Any, outcome: str = "success", **details: Any
) -> None:
    record_audit(
        f"template.{action}",
        actor=actor,
        actor_label=None if actor else "system",
        target_type="message_template",
        target_id=template.id,
        outcome=outcome,
        details={
            "name": template.name,
            "provider": template.provider.code if template.provider else None,
            "vendor_template": template.vendor_code,
            **details,
        },
    )


def _require(template: MessageTemplate, action: Action) -> None:
    decision = decide(template, action)
    if not decision.allowed:
        raise TemplateError(decision.reason or "")


def _refused(
    template: MessageTemplate, action: str, exc: vendors.VendorError, actor: Any
) -> TemplateError:
    """Record a vendor refusal (history + audit) and turn it into a persisted TemplateError."""
    error = exc.error
    text = f"{error.code.value}: {error.vendor_text or error.message}"
    if error.vendor_code:
        text += f" [{error.vendor_code}]"
    _event(template, "vendor_refused", f"{action}: {text}", actor=actor)
    _audit(
        action,
        template,
        actor,
        outcome="failure",
        error=error.code.value,
        vendor_error=error.vendor_code,
    )
    logger.warning("template %s %s refused by %s: %s", template.id, action, template.vendor, text)
    return TemplateError(
        N_("The provider refused: %(error)s"), params={"error": text}, persist=True
    )


def _apply_vendor(
    template: MessageTemplate,
    found: vendors.VendorTemplate,
    *,
    actor: Any,
    kind: str = "status",
    detail: str | None = None,
    commenter: str | None = None,
) -> bool:
    """Take the vendor's view of a template; record what changed. True when anything did.

    New review comments are credited to ``commenter``, by default Kakao: the operator who
    asked for the sync or submitted the template only relayed them.
    """
    changed = False
    before = template.status
    template.vendor_status = found.vendor_status
    if found.status.value != before:
        template.status = found.status.value
        template.status_changed_at = utcnow()
        _event(
            template, kind, detail, actor=actor, from_status=before, to_status=found.status.value
        )
        changed = True
    new_comments = [c for c in found.comments if c not in (template.review_comments or [])]
    if list(found.comments) != list(template.review_comments or []):
        template.review_comments = list(found.comments)
        changed = True
    for comment in new_comments:
        _event(template, "comment", comment, author=commenter or kakao_reviewer(template))
    if template.status != before:
        db.session.add_all(outbox.template_reviewed(template))
    if found.content and found.content != template.content:
        template.content, template.variables = found.content, variables_of(found.content)
        _event(template, "synced", TEXT_CHANGED, actor=actor)
        changed = True
    if found.name and found.name != template.name:
        template.name = found.name[:100]
        changed = True
    return changed


# -- reading --------------------------------------------------------------------------------


def template_data(template: MessageTemplate, **overrides: Any) -> TemplateData:
    """The template's fields as :class:`TemplateData` (to validate or send to a vendor)."""
    values = {f: getattr(template, f) for f in EDITABLE_FIELDS}
    values.update(kind=template.kind, provider_vendor=template.vendor, **overrides)
    return TemplateData(**values)


def check(data: TemplateData, provider: Provider | None) -> list[Issue]:
    """Validation plus the rules that need the provider's settings."""
    issues = validate(data)
    channel = vendors.configured_channel(provider)
    if (
        provider is not None
        and provider.vendor == "aligo"
        and channel
        and data.sender_profile not in (None, "", channel)
    ):
        issues.append(
            Issue(
                "sender_profile",
                N_(
                    "Aligo manages the templates of the sender key configured on "
                    "this provider (%(channel)s)."
                ),
                {"channel": channel},
            )
        )
    if data.kind == TemplateKind.ALIMTALK.value:
        problem = profile_services.form_problem(provider, data.sender_profile)
        if problem is not None:
            issues.append(Issue("sender_profile", problem[0], problem[1]))
    if (
        data.kind == TemplateKind.ALIMTALK.value
        and provider is not None
        and not vendors.supports_templates(provider)
    ):
        issues.append(Issue("provider", N_("This provider has no template API.")))
    return issues


# -- writing --------------------------------------------------------------------------------


def with_defaults(data: TemplateData, provider: Provider | None) -> TemplateData:
    """Fill what the provider implies: its vendor and, for AlimTalk, its configured channel."""
    data.provider_vendor = provider.vendor if provider is not None else None
    if data.kind == TemplateKind.ALIMTALK.value and not data.sender_profile:
        data.sender_profile = vendors.configured_channel(provider)
    if data.kind == TemplateKind.ALIMTALK.value and provider is not None and not data.plus_id:
        # The @handle of the picked profile, when the profile list knows it.
        profile = registered(provider.code, data.sender_profile) if data.sender_profile else None
        data.plus_id = profile.plus_id if profile is not None else None
    if data.kind != TemplateKind.ALIMTALK.value:
        data.buttons = []
    return data


def _assign(template: MessageTemplate, data: TemplateData) -> None:
    for name in EDITABLE_FIELDS:
        setattr(template, name, getattr(data, name))
    template.buttons = [{k: v for k, v in b.items() if k != "row"} for b in data.buttons]
    template.variables = variables_of(data.content)


def create_template(
    data: TemplateData, provider: Provider | None, *, actor: Any
) -> MessageTemplate:
    """Save a new template: a draft for AlimTalk (nothing leaves the console yet)."""
    data = with_defaults(data, provider)
    problems = errors(check(data, provider))
    if problems:
        raise TemplateError(CHECK_FIELDS, issues=problems)
    template = MessageTemplate(
        kind=data.kind,
        provider=provider,
        created_by_id=getattr(actor, "id", None),
        status=ReviewStatus.DRAFT.value if data.kind == TemplateKind.ALIMTALK.value else None,
    )
    _assign(template, data)
    db.session.add(template)
    _event(template, "created", actor=actor, to_status=template.status)
    db.session.flush()
    _audit("create", template, actor, kind=template.kind)
    return template


def _snapshot(template: MessageTemplate) -> dict[str, Any]:
    return {f: getattr(template, f) for f in EDITABLE_FIELDS}


def update_template(
    template: MessageTemplate, data: TemplateData, provider: Provider | None, *, actor: Any
) -> MessageTemplate:
    """Change a template; at the vendor the vendor is changed first (it may re-enter review)."""
    _require(template, Action.EDIT)
    at_vendor = template.is_alimtalk and template.status != ReviewStatus.DRAFT.value
    data.kind = template.kind  # an SMS text never turns into an AlimTalk template
    if at_vendor:
        provider = template.provider  # a registered template stays with its provider
    data = with_defaults(data, provider)
    problems = errors(check(data, provider))
    if problems:
        raise TemplateError(CHECK_FIELDS, issues=problems)
    before = _snapshot(template)
    found = None
    if at_vendor:
        try:
            found = vendors.gateway_for(template.provider).update(
                template.vendor_code, data, template.status_enum
            )
        except vendors.VendorError as exc:
            raise _refused(template, "update", exc, actor) from exc
    else:
        template.provider = provider
    _assign(template, data)
    _event(template, "edited", actor=actor)
    if found is not None:
        _apply_vendor(template, found, actor=actor)
    _audit("update", template, actor, **diff(before, _snapshot(template)))
    return template


def delete_template(template: MessageTemplate, *, actor: Any) -> None:
    """Delete a draft or text (the row goes) or a vendor template (it stays, marked deleted)."""
    _require(template, Action.DELETE)
    if not template.is_alimtalk or template.status == ReviewStatus.DRAFT.value:
        _audit("delete", template, actor)
        db.session.delete(template)
        return
    try:
        vendors.gateway_for(template.provider).delete(template.vendor_code)
    except vendors.VendorError as exc:
        if not exc.not_found:
            raise _refused(template, "delete", exc, actor) from exc
    before = template.status
    template.status = ReviewStatus.DELETED.value
    template.status_changed_at = utcnow()
    _event(template, "deleted", actor=actor, from_status=before, to_status=template.status)
    _audit("delete", template, actor)


def register_template(template: MessageTemplate, *, actor: Any) -> MessageTemplate:
    """Create the template at the vendor (IWINV puts it under review at once)."""
    _require(template, Action.REGISTER)
    problems = errors(check(template_data(template), template.provider))
    if problems:
        raise TemplateError(N_("Fix the template before registering it."), issues=problems)
    try:
        found = vendors.gateway_for(template.provider).create(template)
    except vendors.VendorError as exc:
        raise _refused(template, "register", exc, actor) from exc
    template.vendor_code = found.code
    _apply_vendor(template, found, actor=actor, kind="registered", detail=f"code {found.code}")
    _audit("register", template, actor, status=template.status)
    return template


def request_inspection(template: MessageTemplate, *, actor: Any) -> MessageTemplate:
    """Submit the template to Kakao's review."""
    _require(template, Action.REQUEST_INSPECTION)
    try:
        found = vendors.gateway_for(template.provider).request_inspection(template.vendor_code)
    except vendors.VendorError as exc:
        raise _refused(template, "request_inspection", exc, actor) from exc
    _apply_vendor(template, found, actor=actor, kind="inspection_requested")
    _audit("request_inspection", template, actor, status=template.status)
    return template


def sandbox_review(
    template: MessageTemplate, approve: bool, comment: str, *, actor: Any
) -> MessageTemplate:
    """The sandbox's stand-in for Kakao: approve, or reject with the reviewer's comment."""
    _require(template, Action.SANDBOX_REVIEW)
    comment = (comment or "").strip()
    if not approve and not comment:
        raise TemplateError(N_("A rejection needs a comment for the author."), field="comment")
    status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
    comments = (
        [*(template.review_comments or []), comment]
        if comment
        else list(template.review_comments or [])
    )
    found = vendors.VendorTemplate(
        template.vendor_code or "",
        template.name,
        template.content,
        status,
        status.value.upper(),
        tuple(comments),
    )
    # The sandbox has no Kakao: the operator deciding here is the reviewer.
    _apply_vendor(template, found, actor=actor, kind="reviewed", commenter=_label(actor))
    _audit("sandbox_review", template, actor, decision=status.value, comment=comment or None)
    return template
