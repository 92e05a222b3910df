"""``/templates``: viewers read the registry; operators write, register, review and test-send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.kakao_channels import services as profile_services
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from kmsg_console.web.access import access
from kmsg_console.web.forms import EmptyForm
from kmsg_console.web.htmx import is_partial, render_page_or_fragment

from . import queries, sends, services, sync, vendors
from .forms import FilterForm, ReviewForm, TemplateForm, apply_refusal, test_send_form
from .lifecycle import Action
from .models import EVENT_LABELS, Category, KakaoMessageType, MessageTemplate, ReviewStatus
from .validation import errors

bp = Blueprint("message_templates", __name__, url_prefix="/templates")


@bp.app_template_filter("template_event_label")
def template_event_label(kind: str) -> str:
    """History event kind → its (untranslated) label."""
    return EVENT_LABELS.get(kind, kind)


@bp.app_template_filter("review_status_label")
def review_status_label(value: str) -> str:
    return ReviewStatus(value).label if value in ReviewStatus._value2member_map_ else value


@bp.app_template_filter("template_category")
def template_category(value: str) -> str:
    return Category(value).label if value in Category._value2member_map_ else value


@bp.app_template_filter("kakao_message_type")
def kakao_message_type(value: str) -> str:
    return KakaoMessageType(value).label if value in KakaoMessageType._value2member_map_ else value


@bp.context_processor
def _names() -> dict[str, Any]:
    return {
        "Role": Role,
        "Action": Action,
        "ReviewStatus": ReviewStatus,
        "HISTORY_NOTES": services.HISTORY_NOTES,
    }


def _template_or_404(template_id: int) -> MessageTemplate:
    return db.get_or_404(MessageTemplate, template_id)


def _to_detail(template_id: int):
    return redirect(url_for("message_templates.detail", template_id=template_id), 303)


def _provider(form: TemplateForm):
    return provider_services.get_by_code(form.provider.data) if form.provider.data else None


def _form_page(form: TemplateForm, template: MessageTemplate | None, status: int = 200):
    provider = _provider(form)
    data = services.with_defaults(form.to_data(), provider)
    bubble = queries.preview(data, services.check(data, provider))
    return render_template(
        "message_templates/form.html",
        form=form,
        template=template,
        bubble=bubble,
        provider=provider,
        categories=vendors.kakao_categories(provider),
        profiles=profile_services.choices_for(provider),
        configured=vendors.configured_channel(provider),
    ), status


@bp.get("/category-code")
@access(Role.OPERATOR)
def category_field():
    """The category code field for the chosen provider (htmx, when the provider changes)."""
    if not is_partial():  # a field, not a page: the form it belongs to
        return redirect(url_for("message_templates.create"), 303)
    form = TemplateForm(request.args, meta={"csrf": False})
    provider = _provider(form)
    return render_template(
        "message_templates/_category_code.html",
        form=form,
        provider=provider,
        categories=vendors.kakao_categories(provider),
    )


@bp.get("/sender-profile")
@access(Role.OPERATOR)
def sender_profile_field():
    """The sender profile select for the chosen provider (htmx, when the provider changes)."""
    if not is_partial():  # a field, not a page: the form it belongs to
        return redirect(url_for("message_templates.create"), 303)
    form = TemplateForm(request.args, meta={"csrf": False})
    provider = _provider(form)
    return render_template(
        "message_templates/_sender_profile.html",
        form=form,
        provider=provider,
        profiles=profile_services.choices_for(provider),
        configured=vendors.configured_channel(provider),
    )


@bp.get("")
@access(Role.VIEWER, write=Role.OPERATOR)
def list_templates():
    """The registry with filters and the number of templates in each review status."""
    form = FilterForm(request.args)
    filters = form.data if form.validate() else {}
    return render_page_or_fragment(
        "message_templates/list.html",
        "message_templates/_results.html",
        form=form,
        templates=queries.list_templates(filters),
        counts=queries.status_counts(filters),
        channels=queries.channels(),
        sync_form=EmptyForm(),
        providers=sync.template_providers(),
    )


@bp.post("/preview")
@access(Role.OPERATOR)
def preview():
    """The KakaoTalk bubble for what is typed so far (htmx, as you type)."""
    form = TemplateForm()
    data = services.with_defaults(form.to_data(), _provider(form))
    bubble = queries.preview(data, services.check(data, _provider(form)))
    return render_template("message_templates/_preview.html", bubble=bubble)


def _save(form: TemplateForm, template: MessageTemplate | None) -> MessageTemplate | None:
    """Validate and save; on failure leave the errors on ``form`` and return None."""
    if not form.validate_on_submit():
        data = services.with_defaults(form.to_data(), _provider(form))
        form.add_issues_where_clean(errors(services.check(data, _provider(form))))
        return None
    try:
        if template is None:
            template = services.create_template(form.to_data(), _provider(form), actor=current_user)
        else:
            services.update_template(template, form.to_data(), _provider(form), actor=current_user)
    except services.TemplateError as exc:
        db.session.commit() if exc.persist else db.session.rollback()
        form.add_issues(exc.issues)
        if not exc.issues:
            form.general_errors.append(_(exc.message, **exc.params))
        return None
    db.session.commit()
    return template


@bp.route("/new", methods=["GET", "POST"])
@access(Role.OPERATOR)
def create():
    """Write a new template (saved as a draft; nothing is sent to a provider yet)."""
    if request.method == "GET":
        return _form_page(TemplateForm(), None)
    form = TemplateForm()
    template = _save(form, None)
    if template is None:
        return _form_page(form, None, 422)
    flash(_("Template %(name)s saved.", name=template.name), "success")
    return _to_detail(template.id)


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
@access(Role.OPERATOR)
def edit(template_id: int):
    """Change a template; at the provider this follows the vendor's review rules."""
    template = _template_or_404(template_id)
    decision = services.decide(template, Action.EDIT)
    if request.method == "GET":
        if not decision.allowed:
            flash(_(decision.reason), "error")
            return _to_detail(template.id)
        return _form_page(TemplateForm.for_template(template), template)
    form = TemplateForm()
    if _save(form, template) is None:
        db.session.refresh(template)
        return _form_page(form, template, 422)
    flash(_("Template %(name)s saved.", name=template.name), "success")
    return _to_detail(template.id)


@bp.get("/<int:template_id>")
@access(Role.VIEWER, write=Role.OPERATOR)
def detail(template_id: int):
    """One template: status, review comments, what may be done now, preview, history."""
    template = _template_or_404(template_id)
    return _detail_page(template, test_form=test_send_form(template))


def _detail_page(
    template: MessageTemplate,
    *,
    test_form,
    review_form=None,
    sent=None,
    status: int = 200,
    fragment: bool = False,
):
    data = services.template_data(template)
    bubble = queries.preview(data, services.check(data, template.provider))
    context = {
        "template": template,
        "decisions": services.actions_for(template),
        "bubble": bubble,
        "action_form": EmptyForm(),
        "review_form": review_form or ReviewForm(),
        "test_form": test_form,
        "sent": sent,
        "last_send": queries.last_send(template),
        "review": queries.review_comments(template, services.kakao_reviewer(template)),
    }
    if fragment:  # the test-send card alone (htmx), with the history swapped out of band
        return render_template("message_templates/_test_send.html", **context), status
    return render_template("message_templates/detail.html", **context), status


def _act(template_id: int, operation: Callable[..., Any], success: str):
    """Run a bare-POST action (register, inspect, sync, delete) and come back to the page."""
    template = _template_or_404(template_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        operation(template, actor=current_user)
    except services.TemplateError as exc:
        db.session.commit() if exc.persist else db.session.rollback()
        flash(_(exc.message, **exc.params), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return _to_detail(template_id)


@bp.post("/<int:template_id>/register")
@access(Role.VIEWER, write=Role.OPERATOR)
def register(template_id: int):
    """Register a draft with its provider."""
    return _act(template_id, services.register_template, _("Registered with the provider."))


@bp.post("/<int:template_id>/inspection")
@access(Role.VIEWER, write=Role.OPERATOR)
def request_inspection(template_id: int):
    """Submit the template to Kakao's review."""
    return _act(template_id, services.request_inspection, _("Submitted for review."))


@bp.post("/<int:template_id>/sync")
@access(Role.VIEWER, write=Role.OPERATOR)
def sync_now(template_id: int):
    """Read the review status and comments from the provider now."""
    return _act(template_id, sync.sync_template, _("Status read from the provider."))


@bp.post("/<int:template_id>/delete")
@access(Role.VIEWER, write=Role.OPERATOR)
def delete(template_id: int):
    """Delete a template (at the provider too, where it was registered)."""
    template = _template_or_404(template_id)
    local_only = not template.is_alimtalk or template.status == ReviewStatus.DRAFT.value
    response = _act(template_id, services.delete_template, _("Template deleted."))
    if local_only and db.session.get(MessageTemplate, template_id) is None:
        return redirect(url_for("message_templates.list_templates"), 303)
    return response


@bp.post("/<int:template_id>/review")
@access(Role.VIEWER, write=Role.OPERATOR)
def review(template_id: int):
    """Approve or reject a sandbox template (the sandbox has no Kakao reviewer)."""
    template = _template_or_404(template_id)
    form = ReviewForm()
    decision = (
        "approve"
        if request.form.get("approve")
        else "reject"
        if request.form.get("reject")
        else None
    )
    if not form.validate_on_submit() or decision is None:
        abort(400)
    try:
        services.sandbox_review(
            template, decision == "approve", form.comment.data or "", actor=current_user
        )
    except services.TemplateError as exc:
        db.session.rollback()
        form.comment.errors = [_(exc.message, **exc.params)]
        return _detail_page(
            template, test_form=test_send_form(template), review_form=form, status=422
        )
    db.session.commit()
    flash(
        _("Approved (sandbox).") if decision == "approve" else _("Rejected (sandbox)."), "success"
    )
    return _to_detail(template_id)


@bp.post("/<int:template_id>/test-send")
@access(Role.VIEWER, write=Role.OPERATOR)
def test_send(template_id: int):
    """Send the template once through the send engine (recipient and variable values given)."""
    template = _template_or_404(template_id)
    form = test_send_form(template)
    if not form.validate_on_submit():
        return _detail_page(template, test_form=form, status=422, fragment=is_partial())
    values = {
        name: field.data.strip()
        for name, field in form.variable_fields
        if (field.data or "").strip()
    }
    try:
        log = sends.send_test(template, form.to.data, values, actor=current_user)
    except services.TemplateError as exc:
        db.session.rollback()
        form.to.errors = [_(exc.message, **exc.params)]
        return _detail_page(template, test_form=form, status=422, fragment=is_partial())
    except sending.SendRefused as exc:
        db.session.rollback()
        apply_refusal(form, exc)
        return _detail_page(template, test_form=form, status=422, fragment=is_partial())
    db.session.commit()
    if is_partial():
        return _detail_page(
            template, test_form=test_send_form(template, fresh=True), sent=log, fragment=True
        )
    return redirect(url_for("send_logs.detail", message_id=log.public_id), 303)


@bp.post("/sync")
@access(Role.VIEWER, write=Role.OPERATOR)
def sync_provider():
    """Sync every template of one provider (and import the ones only the provider knows)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    provider = provider_services.get_by_code(request.form.get("provider", ""))
    if provider is None:
        abort(404)
    try:
        summary = sync.sync_provider(provider, actor=current_user)
    except services.vendors.VendorError as exc:
        db.session.rollback()
        flash(_("The provider could not be read: %(error)s", error=exc.error.code.value), "error")
    else:
        db.session.commit()
        flash(
            _(
                "%(provider)s: %(checked)d checked, %(changed)d changed, %(imported)d imported.",
                provider=provider.name,
                checked=summary.checked,
                changed=summary.changed,
                imported=summary.imported,
            ),
            "success",
        )
        if summary.errors:
            flash(_("Not read: %(errors)s", errors=", ".join(summary.errors)), "error")
    return redirect(url_for("message_templates.list_templates", provider=provider.code), 303)
