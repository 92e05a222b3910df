"""``/kakao-channels``: everyone signed in reads the sender profiles; admins add, edit,
remove and sync them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from kmsg_console.web.access import access
from kmsg_console.web.forms import EmptyForm

from . import services
from .forms import EditProfileForm, ProfileForm, SyncForm
from .models import KakaoProfile, ProfileStatus

bp = Blueprint("kakao_channels", __name__, url_prefix="/kakao-channels")
ADD_PREFIX = "new"


@bp.app_template_filter("kakao_profile_status")
def kakao_profile_status(value: str) -> str:
    """A profile status value -> its (untranslated) label."""
    try:
        return ProfileStatus(value).label
    except ValueError:
        return value


def _list_page(form: ProfileForm | None = None, status: int = 200):
    providers = services.kakao_providers()
    return render_template(
        "kakao_channels/list.html",
        profiles=services.list_profiles(request.args.get("provider") or None),
        providers={p.code: p for p in providers},
        manual=[p for p in providers if not services.can_sync(p)],
        counts=services.template_counts(),
        form=form or ProfileForm(formdata=None, prefix=ADD_PREFIX),
        sync_form=SyncForm(formdata=None),
    ), status


@bp.route("", methods=["GET", "POST"])
@access(Role.VIEWER, write=Role.ADMIN)
def list_profiles():
    """Every provider's profiles with their status; POST adds one by hand."""
    if request.method == "GET":
        return _list_page()
    form = ProfileForm(prefix=ADD_PREFIX)
    if form.validate_on_submit():
        provider = provider_services.get_by_code(form.provider.data)
        try:
            profile = services.add_profile(
                provider,
                form.profile_key.data,
                plus_id=form.plus_id.data,
                name=form.name.data,
                status=form.status.data,
                actor=current_user,
            )
        except services.ProfileError as exc:
            form[exc.field].errors = [_(exc.reason, **exc.params)]
        else:
            db.session.commit()
            flash(_("Sender profile %(profile)s added.", profile=profile.display), "success")
            return redirect(url_for("kakao_channels.detail", profile_id=profile.id), 303)
    return _list_page(form, 422)


@bp.post("/sync")
@access(Role.VIEWER, write=Role.ADMIN)
def sync():
    """Import and update one provider's profiles from its vendor's channel list."""
    form = SyncForm()
    if not form.validate_on_submit():
        abort(400)
    provider = provider_services.get_by_code(form.provider.data)
    try:
        summary = services.sync_provider(provider, actor=current_user)
    except services.SyncError as exc:
        db.session.rollback()
        flash(_("The provider could not be read: %(error)s", error=exc.error.code.value), "error")
    else:
        db.session.commit()
        flash(
            _(
                "%(provider)s: %(added)d added, %(updated)d updated, %(missing)d not listed "
                "by the provider.",
                provider=provider.name,
                added=summary.added,
                updated=summary.updated,
                missing=len(summary.missing),
            ),
            "success",
        )
    return redirect(url_for("kakao_channels.list_profiles"), 303)


def _detail_page(profile: KakaoProfile, form: EditProfileForm | None = None, status: int = 200):
    return render_template(
        "kakao_channels/detail.html",
        profile=profile,
        provider=provider_services.get_by_code(profile.provider_code),
        templates=services.templates_of(profile),
        form=form
        or EditProfileForm(
            formdata=None,
            data={"plus_id": profile.plus_id, "name": profile.name, "status": profile.status},
        ),
    ), status


@bp.route("/<int:profile_id>", methods=["GET", "POST"])
@access(Role.VIEWER, write=Role.ADMIN)
def detail(profile_id: int):
    """One profile, the templates that belong to it; POST edits it."""
    profile = db.get_or_404(KakaoProfile, profile_id)
    if request.method == "GET":
        return _detail_page(profile)
    form = EditProfileForm()
    if form.validate_on_submit():
        try:
            services.update_profile(
                profile,
                plus_id=form.plus_id.data,
                name=form.name.data,
                status=form.status.data,
                actor=current_user,
            )
        except services.ProfileError as exc:
            db.session.rollback()
            form[exc.field].errors = [_(exc.reason, **exc.params)]
        else:
            db.session.commit()
            flash(_("Sender profile saved."), "success")
            return redirect(url_for("kakao_channels.detail", profile_id=profile.id), 303)
    return _detail_page(profile, form, 422)


@bp.post("/<int:profile_id>/remove")
@access(Role.VIEWER, write=Role.ADMIN)
def remove(profile_id: int):
    """Take a profile off the list (its templates stay; the console no longer offers it)."""
    profile = db.get_or_404(KakaoProfile, profile_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    label = profile.display
    services.remove_profile(profile, actor=current_user)
    db.session.commit()
    flash(_("Sender profile %(profile)s removed.", profile=label), "success")
    return redirect(url_for("kakao_channels.list_profiles"), 303)
