"""Reading a campaign's recipients into rows, and the preview of what would be sent.

A CSV is read as a stream (UTF-8, or CP949 as Korean spreadsheets often save it, as the
opt-out import reads files): a ``phone`` column and any number of variable columns, named by
the first line. Recipients are written in batches (no ORM object per row; COPY on PostgreSQL, a
Core INSERT on SQLite, see ``_insert``), so a 100,000-row file is read in seconds with bounded
memory; only the hashes seen so far are kept, to find duplicates. Invalid rows are reported
by row number and reason, never by their number. The API's JSON list goes through the same
``RecipientWriter``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app

from kmsg_console.campaigns.models import Campaign, CampaignRecipient, RecipientState
from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.messaging import advertising
from kmsg_console.messaging.encoding import SMS_MAX_BYTES, count_bytes
from kmsg_console.messaging.phone import (
    PHONE_HASH_PURPOSE,
    InvalidPhoneNumber,
    mask_phone,
    normalize_recipient,
)
from kmsg_console.messaging.variables import MissingVariablesError, render_template
from kmsg_console.opt_outs.models import GLOBAL_SCOPE, OptOut

PHONE_ENC_PURPOSE = "campaign_recipient:phone"
VARIABLES_ENC_PURPOSE = "campaign_recipient:variables"
#: NHN Cloud's console takes files of up to 1,000,000 recipients; so do we.
MAX_ROWS = 1_000_000
#: Rows written per INSERT (and opt-outs looked up per query).
BATCH = 1000
#: Invalid rows listed by number in the preview (all are counted).
INVALID_LISTED = 500
NOT_A_MOBILE_NUMBER = N_("Not a valid mobile number.")
_CHUNK = 64 * 1024
_TABLE = CampaignRecipient.__table__
#: What the writer fills in for each recipient (the rest are the dispatch's, set later).
COLUMNS = (
    "campaign_id",
    "row_number",
    "phone_hash",
    "phone_enc",
    "phone_masked",
    "variables_enc",
    "state",
    "reason",
)
_PENDING, _SKIPPED = RecipientState.PENDING.value, RecipientState.SKIPPED.value
#: ``json.dumps(..., ensure_ascii=False)`` without building an encoder for every row.
_variables_json = json.JSONEncoder(ensure_ascii=False).encode
_COPY = f"COPY {_TABLE.name} ({', '.join(COLUMNS)}) FROM STDIN"


class UploadError(ValueError):
    """The file as a whole cannot be read (nothing is written). ``reason`` is an ``N_()``
    template formatted with ``params``."""

    def __init__(self, reason: str, **params: Any) -> None:
        self.reason = reason
        self.params: Mapping[str, Any] = params
        super().__init__(reason % params if params else reason)


@dataclass(frozen=True)
class Row:
    number: int
    phone: str
    variables: dict[str, str]


def _encoding(stream: IO[bytes]) -> str:
    """``utf-8-sig`` when the whole stream decodes as UTF-8, else ``cp949`` (read in chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("cp949")()
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UploadError(N_("The file is neither UTF-8 nor CP949 text.")) from None
    return "cp949"


def read_csv(stream: IO[bytes]) -> Iterator[Row]:
    """The rows of a recipient CSV, one at a time (the stream must be seekable).

    Row numbers are the file's lines as a spreadsheet shows them (line 1 is the header).
    Blank lines are left out.

    :raises UploadError: for a file that is not text, is empty or names no ``phone`` column
        (before any row), or holds more than ``MAX_ROWS`` rows.
    """
    encoding = _encoding(stream)
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            raise UploadError(N_("The file is empty."))
        names = [name.strip() for name in header]
        lowered = [name.lower() for name in names]
        if "phone" not in lowered:
            raise UploadError(N_("The first line must name a phone column."))
        phone_at = lowered.index("phone")
        variable_columns = [(i, n) for i, n in enumerate(names) if i != phone_at and n]
        count = 0
        for number, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            count += 1
            if count > MAX_ROWS:
                raise UploadError(N_("A file may hold at most %(max)s rows."), max=MAX_ROWS)
            phone = values[phone_at] if phone_at < len(values) else ""
            variables = {n: values[i].strip() for i, n in variable_columns if i < len(values)}
            yield Row(number, phone, variables)
    finally:
        text.detach()  # the caller owns the stream


def rows_from_list(recipients: Iterable[Mapping[str, Any]]) -> Iterator[Row]:
    """The API's ``recipients: [{to, variables?}]`` as rows numbered from 1."""
    for number, item in enumerate(recipients, start=1):
        variables = item.get("variables") or {}
        yield Row(number, str(item.get("to") or ""), {str(k): v for k, v in variables.items()})


@dataclass
class Preview:
    """What a campaign would send: counts, invalid rows, the type mix and its bytes."""

    rows_read: int = 0
    to_send: int = 0
    invalid_count: int = 0
    #: ``{"row", "reason", "params"}``, the first ``INVALID_LISTED``.
    invalid: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    opted_out: int = 0
    #: Messages by type (SMS, LMS, ALIMTALK).
    types: dict[str, int] = field(default_factory=dict)
    min_bytes: int | None = None
    max_bytes: int | None = None
    unencodable: list[str] = field(default_factory=list)

    def estimated_seconds(self, rate: int) -> int:
        return -(-self.to_send // max(rate, 1))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preview:
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


class RecipientWriter:
    """Writes a campaign's rows in batches and builds its preview as it goes."""

    def __init__(self, campaign: Campaign, common_variables: Mapping[str, Any]) -> None:
        self.campaign = campaign
        # Read once: ORM attribute reads for every row were about 2 % of a large upload.
        self.campaign_id = campaign.id
        self.text = campaign.text or ""
        self.is_alimtalk = bool(campaign.template_code)
        self.always_lms = bool(campaign.subject)
        self.is_ad = campaign.is_ad
        self.common = dict(common_variables)
        self.keyring = current_app.config["KEYRING"]
        self.preview = Preview()
        self.seen: set[str] = set()
        self.batch: list[dict[str, Any]] = []
        self.measures: list[Any] = []
        self.opt_out_scopes = [GLOBAL_SCOPE]
        if campaign.is_ad and campaign.text:
            self.opt_out_scopes += list(advertising.opt_out_lines(campaign.text))
        self.unencodable: dict[str, None] = {}

    def _invalid(self, row: Row, reason: str, params: Mapping[str, Any] | None = None) -> None:
        self.preview.invalid_count += 1
        if len(self.preview.invalid) < INVALID_LISTED:
            self.preview.invalid.append(
                {"row": row.number, "reason": reason, "params": dict(params or {})}
            )

    def _measure(self, variables: Mapping[str, Any]) -> tuple[str, int | None] | tuple[str, ...]:
        """The row's message type and bytes, or the names of the variables it lacks."""
        if self.is_alimtalk:
            return "ALIMTALK", None
        try:
            text = render_template(self.text, {**self.common, **variables})
        except MissingVariablesError as exc:
            return exc.names
        counted = count_bytes(text)
        for char in counted.unencodable_chars:
            self.unencodable.setdefault(char, None)
        kind = "SMS" if counted.bytes <= SMS_MAX_BYTES and not self.always_lms else "LMS"
        return kind, counted.bytes

    def _count(self, kind: str, size: int | None) -> None:
        """Count a row that will be sent in the type mix and the byte range."""
        preview = self.preview
        preview.to_send += 1
        preview.types[kind] = preview.types.get(kind, 0) + 1
        if size is not None:
            preview.min_bytes = size if preview.min_bytes is None else min(preview.min_bytes, size)
            preview.max_bytes = size if preview.max_bytes is None else max(preview.max_bytes, size)

    def add(self, row: Row) -> None:
        self.preview.rows_read += 1
        try:
            digits = normalize_recipient(row.phone)
        except InvalidPhoneNumber as exc:
            if "digits" in exc.params or not row.phone.strip():
                self._invalid(row, NOT_A_MOBILE_NUMBER)
            else:
                self._invalid(row, exc.reason, exc.params)
            return
        measured = self._measure(row.variables)
        if measured[0] not in ("SMS", "LMS", "ALIMTALK"):
            self._invalid(
                row,
                N_("No value for template variable(s): %(names)s."),
                {"names": ", ".join(measured)},
            )
            return
        phone_hash = self.keyring.lookup_hash(digits, PHONE_HASH_PURPOSE)
        state, reason = _PENDING, None
        if phone_hash in self.seen:
            state, reason = _SKIPPED, "duplicate"
            self.preview.duplicates += 1
        self.seen.add(phone_hash)
        self.measures.append(measured)
        self.batch.append(
            {
                "campaign_id": self.campaign_id,
                "row_number": row.number,
                "phone_hash": phone_hash,
                "phone_enc": self.keyring.encrypt(digits, PHONE_ENC_PURPOSE),
                "phone_masked": mask_phone(digits),
                "variables_enc": self.keyring.encrypt(
                    _variables_json(row.variables), VARIABLES_ENC_PURPOSE
                )
                if row.variables
                else None,
                "state": state,
                "reason": reason,
            }
        )
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        if self.is_ad:
            pending = {r["phone_hash"] for r in self.batch if r["state"] == _PENDING}
            opted = set(
                db.session.scalars(
                    sa.select(OptOut.phone_hash).where(
                        OptOut.phone_hash.in_(pending), OptOut.scope.in_(self.opt_out_scopes)
                    )
                )
            )
            for item in self.batch:
                if item["state"] == _PENDING and item["phone_hash"] in opted:
                    item["state"], item["reason"] = _SKIPPED, "opted_out"
                    self.preview.opted_out += 1
        for item, (kind, size) in zip(self.batch, self.measures, strict=True):
            if item["state"] == _PENDING:
                self._count(kind, size)
        _insert(db.session.connection(), self.batch)
        self.batch, self.measures = [], []

    def finish(self) -> Preview:
        self.flush()
        self.preview.unencodable = list(self.unencodable)[:20]
        return self.preview


def _insert(connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Insert a batch of recipient rows (keys: ``COLUMNS``) in the session's transaction.

    On PostgreSQL the batch is streamed with COPY: psycopg's ``executemany`` sends one INSERT
    per row, and those round trips and their per-row parameter handling were about 40 % of a
    100,000-row upload (``bench/campaigns.py --only preview``). SQLite has no COPY, and its
    ``executemany`` of one Core INSERT already runs in C, so the same rows go there.
    """
    if connection.dialect.name == "postgresql":
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(_COPY) as copy:
                for row in rows:
                    copy.write_row([row[name] for name in COLUMNS])
    else:
        connection.execute(_TABLE.insert(), rows)


def write_recipients(
    campaign: Campaign, rows: Iterable[Row], common_variables: Mapping[str, Any]
) -> Preview:
    """Write ``rows`` as ``campaign``'s recipients (the caller commits); return the preview."""
    writer = RecipientWriter(campaign, common_variables)
    for row in rows:
        writer.add(row)
    return writer.finish()
