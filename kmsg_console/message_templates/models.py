"""Message templates: SMS/LMS texts and Kakao AlimTalk templates under vendor review.

One row per template. An AlimTalk template is bound to a provider and a Kakao channel
(sender profile) and carries one normalized review status for every vendor, next to the
vendor's own raw status. Every change of status, every operator action and every sync
finding is appended to the template's history (``message_template_event``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import TimestampMixin, UTCDateTime, utcnow
from kmsg_console.providers.models import Provider


class TemplateKind(StrEnum):
    """The message type a template is written for."""

    ALIMTALK = "ALIMTALK"
    SMS = "SMS"
    LMS = "LMS"

    @property
    def label(self) -> str:
        return {
            TemplateKind.ALIMTALK: N_("AlimTalk"),
            TemplateKind.SMS: N_("SMS"),
            TemplateKind.LMS: N_("LMS"),
        }[self]


class ReviewStatus(StrEnum):
    """Kakao review state, the same for every vendor (the vendor's own code is kept beside it)."""

    DRAFT = "draft"  # only in the console
    REGISTERED = "registered"  # at the vendor, not submitted for review
    INSPECTING = "inspecting"
    APPROVED = "approved"
    REJECTED = "rejected"
    DORMANT = "dormant"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self][0]

    @property
    def badge(self) -> str:
        return _STATUS_LABELS[self][1]


_STATUS_LABELS = {
    ReviewStatus.DRAFT: (N_("Draft"), "muted"),
    ReviewStatus.REGISTERED: (N_("Registered"), "info"),
    ReviewStatus.INSPECTING: (N_("Under review"), "warn"),
    ReviewStatus.APPROVED: (N_("Approved"), "ok"),
    ReviewStatus.REJECTED: (N_("Rejected"), "bad"),
    ReviewStatus.DORMANT: (N_("Dormant"), "muted"),
    ReviewStatus.DELETED: (N_("Deleted"), "muted"),
}


class Category(StrEnum):
    """K-Message's template categories; the validator gives hints per category."""

    AUTHENTICATION = "AUTHENTICATION"
    NOTIFICATION = "NOTIFICATION"
    INFORMATION = "INFORMATION"
    RESERVATION = "RESERVATION"
    SHIPPING = "SHIPPING"
    PAYMENT = "PAYMENT"
    PROMOTION = "PROMOTION"

    @property
    def label(self) -> str:
        return {
            Category.AUTHENTICATION: N_("Authentication (OTP)"),
            Category.NOTIFICATION: N_("Notification"),
            Category.INFORMATION: N_("Information"),
            Category.RESERVATION: N_("Reservation"),
            Category.SHIPPING: N_("Shipping"),
            Category.PAYMENT: N_("Payment"),
            Category.PROMOTION: N_("Promotion"),
        }[self]


class KakaoMessageType(StrEnum):
    """Kakao's template message types (SOLAPI ``messageType``)."""

    BA = "BA"
    EX = "EX"
    AD = "AD"
    MI = "MI"

    @property
    def label(self) -> str:
        return {
            KakaoMessageType.BA: N_("Basic"),
            KakaoMessageType.EX: N_("Extra information"),
            KakaoMessageType.AD: N_("Ad included"),
            KakaoMessageType.MI: N_("Mixed"),
        }[self]


class EmphasisType(StrEnum):
    """How the top of the bubble is emphasized (this console offers none or a text title)."""

    NONE = "NONE"
    TEXT = "TEXT"

    @property
    def label(self) -> str:
        return {EmphasisType.NONE: N_("None"), EmphasisType.TEXT: N_("Emphasized title")}[self]


class ButtonType(StrEnum):
    """AlimTalk button types and what each needs."""

    WL = "WL"  # web link: mobile URL (PC optional)
    AL = "AL"  # app link: iOS and Android links or schemes
    DS = "DS"  # delivery tracking
    BK = "BK"  # bot keyword
    MD = "MD"  # message delivery

    @property
    def label(self) -> str:
        return {
            ButtonType.WL: N_("Web link"),
            ButtonType.AL: N_("App link"),
            ButtonType.DS: N_("Shipment lookup"),
            ButtonType.BK: N_("Bot keyword"),
            ButtonType.MD: N_("Message delivery"),
        }[self]


#: History event kinds and their labels.
EVENT_LABELS = {
    "created": N_("Created"),
    "edited": N_("Edited"),
    "registered": N_("Registered with the provider"),
    "inspection_requested": N_("Inspection requested"),
    "status": N_("Status changed"),
    "comment": N_("Reviewer's comment"),
    "synced": N_("Synced"),
    "vendor_refused": N_("Refused by the provider"),
    "deleted": N_("Deleted"),
    "test_send": N_("Test message sent"),
    "reviewed": N_("Reviewed (sandbox)"),
    "imported": N_("Imported from the provider"),
}


class MessageTemplate(TimestampMixin, db.Model):
    """A template in the registry (see the module docstring)."""

    __tablename__ = "message_template"
    __table_args__ = (
        sa.UniqueConstraint(
            "provider_id", "vendor_code", name="uq_message_template_provider_vendor_code"
        ),
        sa.Index("ix_message_template_vendor_code_status", "vendor_code", "status"),
        sa.Index("ix_message_template_updated", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    content: Mapped[str] = mapped_column(sa.Text, nullable=False)
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("provider.id"), index=True)
    #: Kakao channel: pfId (SOLAPI) or senderKey (Aligo); IWINV binds it to the API key.
    sender_profile: Mapped[str | None] = mapped_column(sa.String(64))
    plus_id: Mapped[str | None] = mapped_column(sa.String(40))
    category: Mapped[str | None] = mapped_column(sa.String(20))
    #: The vendor's Kakao category code (SOLAPI ``categoryCode``, e.g. ``001002``).
    category_code: Mapped[str | None] = mapped_column(sa.String(20))
    message_type: Mapped[str] = mapped_column(
        sa.String(2), default=KakaoMessageType.BA.value, nullable=False
    )
    emphasis_type: Mapped[str] = mapped_column(
        sa.String(10), default=EmphasisType.NONE.value, nullable=False
    )
    emphasis_title: Mapped[str | None] = mapped_column(sa.String(50))
    emphasis_subtitle: Mapped[str | None] = mapped_column(sa.String(50))
    extra_info: Mapped[str | None] = mapped_column(sa.String(500))
    #: ``[{"type", "name", "link_mobile", "link_pc", "link_ios", "link_android"}]``
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list, nullable=False)
    security_flag: Mapped[bool] = mapped_column(default=False, nullable=False)
    #: Distinct ``#{…}`` names in order of first appearance.
    variables: Mapped[list[str]] = mapped_column(sa.JSON, default=list, nullable=False)
    #: Example values for the preview (never real customer data).
    sample_values: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict, nullable=False)
    #: ``ReviewStatus`` for AlimTalk templates; NULL for SMS/LMS texts (no review).
    status: Mapped[str | None] = mapped_column(sa.String(12), index=True)
    #: The template code the vendor assigned (what sends use as ``template_code``).
    vendor_code: Mapped[str | None] = mapped_column(sa.String(64))
    vendor_status: Mapped[str | None] = mapped_column(sa.String(20))
    review_comments: Mapped[list[str]] = mapped_column(sa.JSON, default=list, nullable=False)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column()

    provider: Mapped[Provider | None] = relationship()
    events: Mapped[list[MessageTemplateEvent]] = relationship(
        back_populates="template",
        order_by="MessageTemplateEvent.id.desc()",
        cascade="all, delete-orphan",
    )

    @property
    def kind_enum(self) -> TemplateKind:
        return TemplateKind(self.kind)

    @property
    def is_alimtalk(self) -> bool:
        return self.kind == TemplateKind.ALIMTALK.value

    @property
    def status_enum(self) -> ReviewStatus | None:
        return ReviewStatus(self.status) if self.status else None

    @property
    def vendor(self) -> str | None:
        return self.provider.vendor if self.provider is not None else None

    @property
    def channel_label(self) -> str:
        """What the list shows as the Kakao channel."""
        return self.plus_id or self.sender_profile or ""


class MessageTemplateEvent(db.Model):
    """One entry of a template's history: an action, a status change or a sync finding."""

    __tablename__ = "message_template_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        sa.ForeignKey("message_template.id", ondelete="CASCADE"), index=True, nullable=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    #: created, edited, registered, inspection_requested, status, comment, synced, sync_failed,
    #: vendor_refused, deleted, test_send, reviewed
    kind: Mapped[str] = mapped_column(sa.String(24), nullable=False)
    from_status: Mapped[str | None] = mapped_column(sa.String(12))
    to_status: Mapped[str | None] = mapped_column(sa.String(12))
    vendor_status: Mapped[str | None] = mapped_column(sa.String(20))
    detail: Mapped[str | None] = mapped_column(sa.String(500))
    actor_label: Mapped[str | None] = mapped_column(sa.String(254))

    template: Mapped[MessageTemplate] = relationship(back_populates="events")
