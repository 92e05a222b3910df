"""``/campaigns``: the list, create (upload → preview → confirm), live progress, pause, resume,
cancel, and the failed recipients as CSV. Everyone signed in reads; operators act."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.audit.services import record_audit
from kmsg_console.campaigns import services, upload
from kmsg_console.campaigns.forms import CampaignForm
from kmsg_console.campaigns.models import (
    DRAFT_HOURS,
    FINISHED,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
)
from kmsg_console.extensions import db
from kmsg_console.messaging.advertising import KST
from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.sending.models import MessageStatus
from kmsg_console.web.access import access
from kmsg_console.web.forms import EmptyForm

bp = Blueprint("campaigns", __name__)
LISTED = 100


def _campaign(public_id: str) -> Campaign:
    campaign = services.get(public_id)
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/campaigns")
@access(Role.VIEWER)
def list_campaigns():
    campaigns = db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.status != CampaignStatus.DRAFT.value)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .limit(LISTED)
    ).all()
    progress = {c.id: services.progress(c) for c in campaigns}
    return render_template("campaigns/list.html", campaigns=campaigns, progress=progress)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@access(Role.OPERATOR)
def create():
    """Upload: the file is read and the campaign kept as a draft for its preview."""
    form = CampaignForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("campaigns/new.html", form=form), status
    scheduled_at = None
    if form.scheduled_at.data:
        scheduled_at = form.scheduled_at.data.replace(tzinfo=KST)
    try:
        campaign = services.create_draft(
            name=form.name.data,
            text=form.text.data,
            template_code=form.template_code.data,
            subject=form.subject.data,
            from_number=form.from_number.data,
            ad=form.ad.data,
            rate=form.rate.data,
            scheduled_at=scheduled_at,
            rows=upload.read_csv(form.file.data.stream),
            actor=current_user,
        )
    except services.CampaignError as exc:
        db.session.rollback()
        form[exc.field].errors = [_(exc.reason, **exc.params)]
        return render_template("campaigns/new.html", form=form), 422
    except upload.UploadError as exc:
        db.session.rollback()
        form.file.errors = [_(exc.reason, **exc.params)]
        return render_template("campaigns/new.html", form=form), 422
    db.session.commit()
    return redirect(url_for("campaigns.show", public_id=campaign.public_id), 303)


def _progress_context(campaign: Campaign) -> dict:
    progress = services.progress(campaign)
    actual_rate = None
    if campaign.started_at and progress.sent + progress.failed + progress.unknown:
        end = campaign.finished_at or utcnow()
        elapsed = max((end - campaign.started_at).total_seconds(), 1)
        actual_rate = (progress.sent + progress.failed + progress.unknown) / elapsed
    eta = -(-progress.pending // campaign.rate) if progress.pending else 0
    return {
        "campaign": campaign,
        "progress": progress,
        "actual_rate": actual_rate,
        "eta_seconds": eta,
        "log_groups": services.send_log_groups(campaign),
        "unlogged": services.unlogged_failures(campaign),
        "message_status": MessageStatus,
        "finished": campaign.status in FINISHED,
        # A cancelled campaign's last claimed recipients settle a moment later: keep polling.
        "polling": campaign.status not in FINISHED or progress.pending > 0,
        "form": EmptyForm(),
    }


@bp.get("/campaigns/<string:public_id>")
@access(Role.VIEWER)
def show(public_id: str):
    campaign = _campaign(public_id)
    if campaign.status == CampaignStatus.DRAFT.value:
        preview = services.preview_of(campaign)
        return render_template(
            "campaigns/preview.html",
            campaign=campaign,
            preview=preview,
            estimated=preview.estimated_seconds(campaign.rate),
            draft_hours=DRAFT_HOURS,
            form=EmptyForm(),
        )
    return render_template("campaigns/show.html", **_progress_context(campaign))


@bp.get("/campaigns/<string:public_id>/progress")
@access(Role.VIEWER)
def progress(public_id: str):
    """The progress fragment the page polls (htmx) until the campaign is finished."""
    return render_template("campaigns/_progress.html", **_progress_context(_campaign(public_id)))


def _act(public_id: str, action) -> Response:
    campaign = _campaign(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if action(campaign, actor=current_user) in (False, None):
        if services.draft_expired(campaign):
            flash(
                _(
                    "Drafts not confirmed within %(hours)s hours are deleted: upload the file"
                    " again.",
                    hours=DRAFT_HOURS,
                ),
                "info",
            )
        else:
            flash(
                _(
                    "The campaign is %(status)s: nothing changed.",
                    status=_(campaign.status_enum.label),
                ),
                "info",
            )
    db.session.commit()
    return redirect(url_for("campaigns.show", public_id=campaign.public_id), 303)


@bp.post("/campaigns/<string:public_id>/confirm")
@access(Role.VIEWER, Role.OPERATOR)
def confirm(public_id: str):
    return _act(public_id, services.confirm)


@bp.post("/campaigns/<string:public_id>/pause")
@access(Role.VIEWER, Role.OPERATOR)
def pause(public_id: str):
    return _act(public_id, services.pause)


@bp.post("/campaigns/<string:public_id>/resume")
@access(Role.VIEWER, Role.OPERATOR)
def resume(public_id: str):
    return _act(public_id, services.resume)


@bp.post("/campaigns/<string:public_id>/cancel")
@access(Role.VIEWER, Role.OPERATOR)
def cancel(public_id: str):
    return _act(public_id, services.cancel)


@bp.post("/campaigns/<string:public_id>/failed.csv")
@access(Role.VIEWER, Role.OPERATOR)
def export_failed(public_id: str):
    """The failed and unknown recipients with their real numbers and variables, for a retry
    campaign: operators only, audited (a POST, so it is never a link a browser prefetches)."""
    campaign = _campaign(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)

    keyring = current_app.config["KEYRING"]
    rows = db.session.execute(
        sa.select(
            CampaignRecipient.row_number,
            CampaignRecipient.phone_enc,
            CampaignRecipient.variables_enc,
            CampaignRecipient.state,
            CampaignRecipient.reason,
        )
        .where(
            CampaignRecipient.campaign_id == campaign.id,
            CampaignRecipient.state.in_(["failed", "unknown"]),
        )
        .order_by(CampaignRecipient.row_number)
    ).all()
    decoded = [
        (
            row,
            keyring.decrypt(row.phone_enc, upload.PHONE_ENC_PURPOSE),
            json.loads(keyring.decrypt(row.variables_enc, upload.VARIABLES_ENC_PURPOSE))
            if row.variables_enc
            else {},
        )
        for row in rows
    ]
    names = list(dict.fromkeys(name for _, _, variables in decoded for name in variables))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["phone", *names, "row", "state", "error_code"])
    for row, phone, variables in decoded:
        writer.writerow(
            [
                phone,
                *(variables.get(n, "") for n in names),
                row.row_number,
                row.state,
                row.reason or "",
            ]
        )
    record_audit(
        "campaign.export_failed",
        actor=current_user,
        target_type="campaign",
        target_id=campaign.public_id,
        details={"rows": len(rows)},
    )
    db.session.commit()
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{campaign.public_id}-failed.csv"',
            "Cache-Control": "no-store",
        },
    )
