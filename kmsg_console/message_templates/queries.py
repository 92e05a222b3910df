"""Reading the registry: filtered lists, counts per status, and the bubble preview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.messaging.encoding import count_bytes
from kmsg_console.messaging.variables import PLACEHOLDER_RE
from kmsg_console.providers.models import Provider
from kmsg_console.sending.models import MessageLog

from .models import MessageTemplate, ReviewStatus, TemplateKind
from .validation import Issue, TemplateData

#: Filters the list page accepts (query-string names).
FILTERS = ("provider", "channel", "status", "kind")


def _filtered(filters: Mapping[str, Any], *, skip: str | None = None) -> sa.Select[Any]:
    query = sa.select(MessageTemplate)
    if filters.get("provider") and skip != "provider":
        query = query.join(Provider, MessageTemplate.provider_id == Provider.id).where(
            Provider.code == filters["provider"]
        )
    if filters.get("channel") and skip != "channel":
        channel = str(filters["channel"]).strip()
        query = query.where(
            sa.or_(MessageTemplate.plus_id == channel, MessageTemplate.sender_profile == channel)
        )
    if filters.get("status") and skip != "status":
        query = query.where(MessageTemplate.status == filters["status"])
    if filters.get("kind") and skip != "kind":
        query = query.where(MessageTemplate.kind == filters["kind"])
    return query


def list_templates(filters: Mapping[str, Any], *, limit: int = 200) -> list[MessageTemplate]:
    """Templates matching ``filters``, most recently changed first."""
    query = _filtered(filters).order_by(
        MessageTemplate.updated_at.desc(), MessageTemplate.id.desc()
    )
    return list(db.session.scalars(query.limit(limit)))


def status_counts(filters: Mapping[str, Any]) -> dict[str, int]:
    """AlimTalk templates per review status under the other filters (``text`` counts SMS/LMS)."""
    subquery = _filtered(filters, skip="status").subquery()
    rows = db.session.execute(
        sa.select(subquery.c.status, sa.func.count()).group_by(subquery.c.status)
    )
    counts = {status.value: 0 for status in ReviewStatus}
    counts["text"] = 0
    for status, count in rows:
        counts[status or "text"] = count
    return counts


def channels() -> list[str]:
    """Every Kakao channel seen on a template (for the filter's suggestions)."""
    rows = db.session.execute(
        sa.select(MessageTemplate.plus_id, MessageTemplate.sender_profile).distinct()
    )
    return sorted({plus or profile for plus, profile in rows if plus or profile})


@dataclass(frozen=True)
class ReviewComment:
    text: str
    #: Who wrote it: Kakao (through the vendor), or the operator reviewing in the sandbox.
    author: str


@dataclass(frozen=True)
class ReviewComments:
    """A template's review comments: of the review under way or last finished, and older."""

    current: list[ReviewComment]
    earlier: list[ReviewComment]


def review_comments(template: MessageTemplate, reviewer: str) -> ReviewComments:
    """Split the vendor's comment list by review, with each comment's author.

    Vendors keep every comment a template ever got. A comment belongs to an earlier review
    when the template was submitted for review again after it arrived (its history entry is
    older than the last move into "inspecting"). A comment with no history entry (an imported
    template) counts as current and is credited to ``reviewer``.
    """
    events = template.events  # newest first
    review_started = next(
        (e.id for e in events if e.to_status == ReviewStatus.INSPECTING.value), None
    )
    arrived: dict[str, Any] = {}
    for event in events:
        if event.kind == "comment" and event.detail is not None:
            arrived.setdefault(event.detail, event)
    current: list[ReviewComment] = []
    earlier: list[ReviewComment] = []
    for text in template.review_comments or []:
        event = arrived.get(text[:500])
        comment = ReviewComment(text, (event.actor_label if event else None) or reviewer)
        older = event is not None and review_started is not None and event.id < review_started
        (earlier if older else current).append(comment)
    return ReviewComments(current, earlier)


def last_send(template: MessageTemplate) -> MessageLog | None:
    """The newest message sent with this template's code through its provider."""
    if not template.vendor_code:
        return None
    query = sa.select(MessageLog).where(MessageLog.template_code == template.vendor_code)
    if template.provider is not None:
        query = query.where(MessageLog.provider_code == template.provider.code)
    return db.session.scalar(query.order_by(MessageLog.created_at.desc()).limit(1))


# -- the bubble preview ------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A run of text, or a variable (filled with its sample value when there is one)."""

    text: str
    variable: str | None = None

    @property
    def filled(self) -> bool:
        return self.variable is None or self.text != f"#{{{self.variable}}}"


@dataclass
class Preview:
    kind: str
    name: str
    channel: str
    segments: list[Segment]
    emphasis_title: str | None = None
    emphasis_subtitle: str | None = None
    extra_info: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    security_flag: bool = False
    chars: int = 0
    bytes: int = 0
    missing_samples: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def is_alimtalk(self) -> bool:
        return self.kind == TemplateKind.ALIMTALK.value


def segments(content: str, samples: Mapping[str, str]) -> list[Segment]:
    """``content`` split into text and variables, variables filled from ``samples``."""
    parts: list[Segment] = []
    position = 0
    for match in PLACEHOLDER_RE.finditer(content):
        if match.start() > position:
            parts.append(Segment(content[position : match.start()]))
        name = match.group(1).strip()
        parts.append(Segment(samples.get(name) or match.group(0), name))
        position = match.end()
    if position < len(content):
        parts.append(Segment(content[position:]))
    return parts


def preview(data: TemplateData, issues: list[Issue], channel: str | None = None) -> Preview:
    """What the recipient would see, with the live validation result ``issues``."""
    parts = segments(data.content, data.sample_values)
    rendered = "".join(p.text for p in parts)
    return Preview(
        kind=data.kind,
        name=data.name,
        channel=channel or data.plus_id or data.sender_profile or "",
        segments=parts,
        emphasis_title=data.emphasis_title,
        emphasis_subtitle=data.emphasis_subtitle,
        extra_info=data.extra_info,
        buttons=[b for b in data.buttons if b.get("name")],
        security_flag=data.security_flag,
        chars=len(rendered),
        bytes=count_bytes(rendered).bytes,
        missing_samples=[p.variable for p in parts if p.variable and not p.filled],
        issues=issues,
    )
