"""Seed a send log with a year of realistic messages, fast.

What a row holds is what the send engine writes (``sending/engine.py``: ``_create_log``,
``_route``, ``_finish``): message texts go through the real ``prepare_message`` (type, SMS →
LMS upgrade, byte count, warnings) and ``engine._payload``; recipients are encrypted with the
real keyring, bound to the row's message id (``message:<id>:to``), hashed with the keyed
lookup hash and masked with ``mask_phone``; OTP texts are stored with the code masked and
without a retry payload. Every message gets its attempts (a failover attempt when the first
provider failed retryably) and its timeline events.

The spread is what an operator of a mid-sized Korean service sees over a year:

- created_at over 365 days with a day/night rhythm (Asia/Seoul), ids ascending with time;
- types: SMS 52 %, LMS 11 %, MMS 2 %, AlimTalk 32 %, FriendTalk 3 %; 40 AlimTalk templates
  with a long tail;
- sources: API 74 %, OTP 21 %, console 5 %; 8 API keys with a long tail;
- providers solapi-main / iwinv-main / aligo-main / sandbox, routed by type;
- statuses: mostly DELIVERED (SENT for Aligo, which has no status API), about 11 % FAILED with
  each vendor's real codes (``messaging/vendor_codes.py``) mapped to the normalized code,
  about 1.5 % UNKNOWN after timeouts, a few CANCELLED scheduled sends, and PENDING/SENT for
  the last minutes;
- recipients drawn from a pool of distinct numbers with a long tail (some numbers receive
  thousands of messages).

Speed: rows are built as tuples and written with COPY on PostgreSQL and ``executemany`` on
SQLite, with the secondary indexes of the three tables dropped during the load and rebuilt
afterwards (the same ``Index`` objects as the models), then ANALYZE.

Run alone to time the seeding into a throw-away database::

    .venv/bin/python bench/seed_send_logs.py --db postgresql --rows 100000
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import itertools
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import common  # bench/common.py (scripts in bench/ import their neighbours by name)
import sqlalchemy as sa

from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.messaging.errors import ErrorCode
from kmsg_console.messaging.phone import mask_phone
from kmsg_console.messaging.prepare import prepare_message
from kmsg_console.messaging.types import Failover, FallbackChannel, KakaoOptions, MediaImage
from kmsg_console.messaging.vendor_codes import TABLES, map_vendor_code
from kmsg_console.providers.models import Provider, RoutingRule
from kmsg_console.sending import engine, reading
from kmsg_console.sending.models import MessageAttempt, MessageEvent, MessageLog

SEOUL = ZoneInfo("Asia/Seoul")
DAYS = 365
PHONE_POOL = 5_000
BATCH = 10_000

# fmt: off
PROVIDERS = {"solapi-main": "solapi", "iwinv-main": "iwinv", "aligo-main": "aligo",
             "sandbox": "sandbox"}  # code -> vendor
API_KEYS = ("shop-web", "shop-app", "auth-service", "billing", "crm-campaigns", "partner-a",
            "partner-b", "legacy-batch")
TEMPLATES = [f"TPL_{name}" for name in (
    "ORDER_CONFIRM", "ORDER_CANCEL", "DELIVERY_START", "DELIVERY_DONE", "PAYMENT_DONE",
    "REFUND_DONE", "POINT_EXPIRE", "COUPON_ISSUED", "RESERVATION_OK", "RESERVATION_REMIND",
    "SIGNUP_WELCOME", "PASSWORD_CHANGED", "INVOICE_ISSUED", "SUBSCRIPTION_RENEW", "STOCK_ALERT",
    "PICKUP_READY", "RETURN_ACCEPTED", "EXCHANGE_DONE", "REVIEW_REQUEST", "EVENT_WINNER",
)] + [f"TPL_CAMPAIGN_{n:02d}" for n in range(1, 21)]

# (weight, vendor code) per vendor table for send failures; weights follow what operators
# report most: not-a-Kakao-user dominates AlimTalk, unregistered senders and balance SMS.
FAILURES = {
    ("solapi", "ALIMTALK"): [(40, "3104"), (14, "3107"), (6, "3105"), (4, "3103"), (2, "3101"),
                             (2, "1030"), (1, "TooManyRequests")],
    ("solapi", "TEXT"): [(30, "3040"), (10, "1062"), (4, "1030"), (3, "1010"),
                         (2, "TooManyRequests"), (1, "SignatureDoesNotMatch")],
    ("iwinv", "ALIMTALK"): [(20, "518"), (12, "501"), (6, "508"), (5, "519"), (4, "206"),
                            (3, "540"), (1, "429")],
    ("iwinv", "TEXT"): [(16, "1"), (10, "13"), (4, "50"), (3, "15"), (2, "21")],
    ("aligo", "ALIMTALK"): [(14, "509"), (8, "-501"), (4, "507"), (3, "-102")],
    ("aligo", "TEXT"): [(16, "-105"), (10, "-103"), (6, "-102"), (2, "-101")],
}
VENDOR_TABLE = {
    ("solapi", "ALIMTALK"): "solapi", ("solapi", "TEXT"): "solapi",
    ("iwinv", "ALIMTALK"): "iwinv_alimtalk", ("iwinv", "TEXT"): "iwinv_sms",
    ("aligo", "ALIMTALK"): "aligo_kakao", ("aligo", "TEXT"): "aligo_sms",
}
# fmt: on
#: SOLAPI codes that arrive through delivery tracking (the send itself was accepted).
TRACKED_FAILURES = {"3104", "3107", "3040"}

HOUR_WEIGHTS = [2, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 15, 14, 14, 14, 14, 14, 13, 12, 11, 10, 8, 6, 4]

SMS_TEXTS = [
    "[쇼핑몰] 주문이 접수되었습니다. 주문번호 #{order}",
    "[쇼핑몰] #{name}님, 상품이 발송되었습니다.",
    "[예약] #{name}님 내일 #{time} 예약 잊지 마세요.",
    "[알림] 비밀번호가 변경되었습니다. 본인이 아니면 고객센터로 연락주세요.",
    "[결제] #{amount}원 결제가 완료되었습니다.",
    "[포인트] 이번 달 소멸 예정 포인트가 있습니다.",
]
LMS_TEXTS = [
    "[쇼핑몰] #{name}님, 주문하신 상품의 배송이 시작되었습니다. 택배사: CJ대한통운, 송장번호: "
    "#{tracking}. 배송 조회는 앱의 주문내역에서 하실 수 있습니다. 이용해 주셔서 감사합니다.",
    "[공지] 시스템 점검 안내: #{date} 02:00부터 06:00까지 서비스 이용이 제한됩니다. 점검 시간에는 "
    "로그인, 결제, 주문 조회가 되지 않으니 양해 부탁드립니다. 더 나은 서비스로 보답하겠습니다.",
    "[청구] #{name}님의 #{month}월 이용 요금은 #{amount}원이며 납부 기한은 #{date}입니다. "
    "자동이체를 신청하시면 납부일에 자동으로 결제됩니다. "
    "자세한 내역은 홈페이지에서 확인하실 수 있습니다.",
]
ALIMTALK_CONTENT = (
    "[#{brand}] #{name}님, 요청하신 안내입니다.\n주문번호: #{order}\n금액: #{amount}원\n"
    "자세한 내용은 앱에서 확인해 주세요."
)
OTP_TEXT = "[kmsg] 인증번호 [#{code}]을 입력해주세요. (3분 이내)"
SENDER = "0212345678"


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class Weighted:
    """Fast weighted draws of many values at once."""

    def __init__(self, pairs: list[tuple[float, Any]]) -> None:
        self.values = [v for _w, v in pairs]
        self.cum = _cumulative([w for w, _v in pairs])

    def draw(self, rng: random.Random, k: int) -> list[Any]:
        return rng.choices(self.values, cum_weights=self.cum, k=k)

    def one(self, rng: random.Random) -> Any:
        total = self.cum[-1]
        return self.values[bisect.bisect(self.cum, rng.random() * total)]


def zipf(n: int, s: float = 1.0) -> list[float]:
    return [1 / (rank**s) for rank in range(1, n + 1)]


@dataclass
class Prototype:
    """One kind of message as ``prepare_message`` makes it (everything but the recipient)."""

    type: str
    requested_type: str | None
    text: str | None  # what the recipient sees (OTP: with the code masked)
    subject: str | None
    template_code: str | None
    byte_count: int | None
    warnings: list[dict[str, Any]]
    payload_json: str | None  # None for OTP messages (their codes cannot be retried)
    redacted: bool


def _prototype(rng: random.Random, kind: str, n: int) -> Prototype:
    """Build message ``n`` of ``kind`` through the real preparation code."""
    name = rng.choice(["김민준", "이서연", "박지호", "최수아", "정도윤"])
    variables = {
        "name": name,
        "order": f"2026{n:06d}",
        "amount": f"{rng.randint(1, 500) * 1000:,}",
        "tracking": f"{rng.randint(10**11, 10**12 - 1)}",
        "date": "12월 15일",
        "month": "11",
        "time": "14:30",
        "brand": "쇼핑몰",
    }
    sensitive: list[str] = []
    kwargs: dict[str, Any] = {"to": "01012345678", "from_": SENDER}
    requested = None
    if kind == "OTP":
        code = f"{rng.randrange(10**6):06d}"
        sensitive = [code]
        kwargs.update(text=OTP_TEXT.replace("#{code}", code))
    elif kind == "SMS":
        kwargs.update(text=SMS_TEXTS[n % len(SMS_TEXTS)], variables=variables)
    elif kind == "LMS":  # half ask for LMS, half are upgraded from SMS by their length
        text = LMS_TEXTS[n % len(LMS_TEXTS)]
        if n % 2:
            requested = "LMS"
            kwargs.update(type="LMS", subject="[안내]")
        kwargs.update(text=text, variables=variables)
    elif kind == "MMS":
        requested = "MMS"
        kwargs.update(
            type="MMS",
            text=LMS_TEXTS[n % len(LMS_TEXTS)],
            subject="[이벤트]",
            variables=variables,
            image=MediaImage(b"\xff\xd8\xff" + bytes(64)),
        )
    elif kind == "FRIENDTALK":
        requested = "FRIENDTALK"
        kwargs.update(
            type="FRIENDTALK",
            text="[쇼핑몰] 이번 주 특가 상품을 확인해 보세요!",
            kakao=KakaoOptions(profile_id="KA01PF000000000000000000DEMO"),
        )
    else:  # ALIMTALK
        requested = "ALIMTALK"
        fallback = n % 3 == 0
        kwargs.update(
            type="ALIMTALK",
            template_id=kind,
            template_content=ALIMTALK_CONTENT,
            variables=variables,
            kakao=KakaoOptions(profile_id="KA01PF000000000000000000DEMO"),
            failover=Failover(True, FallbackChannel.SMS, "[쇼핑몰] 주문 안내를 확인해 주세요.")
            if fallback
            else None,
        )
    prepared = prepare_message(**kwargs)
    message = prepared.message
    body = engine._redact(engine.final_text(message), sensitive)
    warnings = [
        {
            "code": w.code,
            "message": w.message % dict(w.details)
            if w.details and "%(" in w.message
            else w.message,
        }
        for w in prepared.warnings
    ]
    return Prototype(
        type=message.type.value,
        requested_type=requested,
        text=body,
        subject=message.subject,
        template_code=message.template_id,
        byte_count=prepared.byte_count.bytes if prepared.byte_count else None,
        warnings=warnings,
        payload_json=None
        if sensitive
        else json.dumps(engine._payload(message), ensure_ascii=False),
        redacted=bool(sensitive),
    )


@dataclass
class SeedResult:
    rows: int
    attempts: int
    events: int
    seconds: float
    load_seconds: float
    index_seconds: float
    api_key_ids: list[int] = field(default_factory=list)


def _bind_processors(table: sa.Table, dialect: sa.Dialect) -> list[Any]:
    return [column.type._cached_bind_processor(dialect) for column in table.columns]


class Writer:
    """Rows → the database: COPY (PostgreSQL) or executemany (SQLite), bind-processed the way
    SQLAlchemy would store them (UTC timestamps, JSON, booleans)."""

    def __init__(self, conn: sa.Connection, table: sa.Table) -> None:
        self.conn = conn
        self.table = table
        self.dialect = conn.dialect
        self.columns = [c.name for c in table.columns]
        processors = _bind_processors(table, self.dialect)
        if self.dialect.name == "postgresql":
            # psycopg adapts datetimes itself; JSON goes in as its text.
            processors = [
                None if isinstance(c.type, sa.JSON) else p
                for c, p in zip(table.columns, processors, strict=True)
            ]
            self.json_columns = [
                i for i, c in enumerate(table.columns) if isinstance(c.type, sa.JSON)
            ]
        else:
            self.json_columns = []
        self.processors = [(i, p) for i, p in enumerate(processors) if p is not None]

    def write(self, rows: list[list[Any]]) -> None:
        for row in rows:
            for i, process in self.processors:
                if row[i] is not None:
                    row[i] = process(row[i])
            for i in self.json_columns:
                if row[i] is not None:
                    row[i] = json.dumps(row[i], ensure_ascii=False)
        raw = self.conn.connection.driver_connection
        names = ", ".join(self.columns)
        if self.dialect.name == "postgresql":
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {self.table.name} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in self.columns)
            statement = f"INSERT INTO {self.table.name} ({names}) VALUES ({marks})"  # noqa: S608
            raw.executemany(statement, rows)  # (table and column names come from the models)


TABLES_LOADED = (MessageLog.__table__, MessageAttempt.__table__, MessageEvent.__table__)


def prepare_reference_data(app, operator_email: str | None = None) -> dict[str, Any]:
    """Providers (and routing), API keys: what the seeded rows refer to."""
    with app.app_context():
        for code, vendor in PROVIDERS.items():
            if db.session.scalar(sa.select(Provider.id).where(Provider.code == code)) is None:
                db.session.add(
                    Provider(code=code, name=code, vendor=vendor, settings={}, secrets={})
                )
        if db.session.get(RoutingRule, "DEFAULT") is None:
            db.session.add(RoutingRule(message_type="DEFAULT", provider_codes=["sandbox"]))
        key_ids = []
        for name in API_KEYS:
            key_ids.append(issue_key(name, ["send", "otp"], actor_label="bench").key.id)
        operator_id = None
        if operator_email:
            from kmsg_console.operators.models import Operator

            operator_id = db.session.scalar(
                sa.select(Operator.id).where(Operator.email == operator_email)
            )
        db.session.commit()
    return {"api_key_ids": key_ids, "operator_id": operator_id}


def seed(
    app,
    rows: int,
    *,
    seed_value: int = 20261201,
    operator_email: str | None = None,
    now: datetime | None = None,
    progress=print,
) -> SeedResult:
    """Write ``rows`` messages (with attempts and events) into the app's empty send log."""
    started = time.perf_counter()
    refs = prepare_reference_data(app, operator_email)
    rng = random.Random(seed_value)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    keyring = app.config["KEYRING"]

    # -- pools -------------------------------------------------------------------------
    phones = sorted({f"010{rng.randrange(10**8):08d}" for _ in range(PHONE_POOL * 2)})[:PHONE_POOL]
    rng.shuffle(phones)
    phone_pool = [
        (p, keyring.lookup_hash(p, reading.PHONE_HASH_PURPOSE), mask_phone(p)) for p in phones
    ]
    phone_draw = Weighted(
        list(zip(zipf(len(phone_pool), 0.9), range(len(phone_pool)), strict=True))
    )
    kinds = Weighted([(52, "SMS"), (11, "LMS"), (2, "MMS"), (32, "ALIMTALK"), (3, "FRIENDTALK")])
    template_draw = Weighted(list(zip(zipf(len(TEMPLATES), 1.1), TEMPLATES, strict=True)))
    sources = Weighted([(74, "api"), (21, "otp"), (5, "console")])
    api_keys = Weighted(
        list(zip(zipf(len(refs["api_key_ids"]), 1.2), refs["api_key_ids"], strict=True))
    )
    text_providers = Weighted(
        [(50, "solapi-main"), (25, "iwinv-main"), (20, "aligo-main"), (5, "sandbox")]
    )
    kakao_providers = Weighted([(60, "solapi-main"), (30, "iwinv-main"), (10, "aligo-main")])
    failure_draws = {key: Weighted(pairs) for key, pairs in FAILURES.items()}
    prototypes: dict[str, list[Prototype]] = {}
    for kind in ("SMS", "LMS", "MMS", "FRIENDTALK", "OTP", *TEMPLATES):
        prototypes[kind] = [_prototype(rng, kind, n) for n in range(6)]

    # -- timestamps: a year with a day/night rhythm, sorted so ids ascend with time ------
    start = now - timedelta(days=DAYS)
    hours = Weighted(list(zip(HOUR_WEIGHTS, range(24), strict=True)))
    local_midnight = datetime.combine(start.astimezone(SEOUL).date(), datetime.min.time(), SEOUL)
    offsets = []
    drawn_hours = hours.draw(rng, rows * 2)
    for hour in drawn_hours:
        moment = (
            local_midnight
            + timedelta(days=rng.randrange(DAYS + 1), hours=hour, seconds=rng.random() * 3600)
        ).astimezone(UTC)
        if start <= moment < now - timedelta(seconds=5):
            offsets.append(moment)
            if len(offsets) == rows:
                break
    offsets.sort()

    load_started = time.perf_counter()
    counts = {"attempts": 0, "events": 0}
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
        with engine.connect() as conn:
            if dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
                conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MiB for the load
            for table in TABLES_LOADED:
                for index in table.indexes:
                    index.drop(conn)
            conn.commit()
            writers = [Writer(conn, t) for t in TABLES_LOADED]
            next_ids = {"attempt": 1, "event": 1}
            for batch_start in range(0, rows, BATCH):
                logs, attempts, events = [], [], []
                for offset, created in enumerate(offsets[batch_start : batch_start + BATCH]):
                    _make_message(
                        batch_start + offset + 1,
                        created,
                        now,
                        rng,
                        keyring,
                        logs,
                        attempts,
                        events,
                        next_ids,
                        phone_pool=phone_pool,
                        phone_draw=phone_draw,
                        kinds=kinds,
                        template_draw=template_draw,
                        sources=sources,
                        api_keys=api_keys,
                        text_providers=text_providers,
                        kakao_providers=kakao_providers,
                        failure_draws=failure_draws,
                        prototypes=prototypes,
                        operator_id=refs["operator_id"],
                    )
                for writer, chunk in zip(writers, (logs, attempts, events), strict=True):
                    writer.write(chunk)
                counts["attempts"] += len(attempts)
                counts["events"] += len(events)
                conn.commit()
                done = min(rows, batch_start + BATCH)
                if progress and (done % (BATCH * 10) == 0 or done == rows):
                    elapsed = time.perf_counter() - load_started
                    progress(f"  seeded {done:,}/{rows:,} messages ({done / elapsed:,.0f}/s)")
            load_seconds = time.perf_counter() - load_started
            index_started = time.perf_counter()
            for table in TABLES_LOADED:
                for index in table.indexes:
                    index.create(conn)
            if dialect == "postgresql":
                for table in TABLES_LOADED:
                    # The id sequence follows the ids COPY wrote (table names from the models).
                    setval = (
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                    conn.exec_driver_sql(setval)
            conn.commit()
            if dialect == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("VACUUM ANALYZE message_log")
                conn.exec_driver_sql("VACUUM ANALYZE message_attempt")
                conn.exec_driver_sql("VACUUM ANALYZE message_event")
            else:
                conn.exec_driver_sql("ANALYZE")
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.exec_driver_sql("PRAGMA synchronous=FULL")
                conn.commit()
            index_seconds = time.perf_counter() - index_started
        engine.dispose()
    return SeedResult(
        rows,
        counts["attempts"],
        counts["events"],
        time.perf_counter() - started,
        load_seconds,
        index_seconds,
        refs["api_key_ids"],
    )


def _make_message(
    row_id,
    created,
    now,
    rng,
    keyring,
    logs,
    attempts,
    events,
    next_ids,
    *,
    phone_pool,
    phone_draw,
    kinds,
    template_draw,
    sources,
    api_keys,
    text_providers,
    kakao_providers,
    failure_draws,
    prototypes,
    operator_id,
) -> None:
    source = sources.one(rng)
    kind = "OTP" if source == "otp" else kinds.one(rng)
    if kind == "ALIMTALK":
        proto = rng.choice(prototypes[template_draw.one(rng)])
    else:
        proto = rng.choice(prototypes[kind])
    mtype = proto.type
    kakao = mtype in ("ALIMTALK", "FRIENDTALK")
    provider = (
        kakao_providers.one(rng)
        if mtype == "ALIMTALK"
        else "solapi-main"
        if mtype == "FRIENDTALK"
        else text_providers.one(rng)
    )
    vendor = PROVIDERS[provider]
    digits, to_hash, masked = phone_pool[phone_draw.one(rng)]
    public_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    api_key_id = api_keys.one(rng) if source in ("api", "otp") else None
    console_operator = operator_id if source == "console" else None
    idempotency = None
    request_hash = None
    if source == "api" and rng.random() < 0.3:
        idempotency = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        request_hash = hashlib.sha256(idempotency.encode()).hexdigest()
    scheduled = None
    if source == "api" and rng.random() < 0.01:
        scheduled = created + timedelta(hours=rng.randint(1, 48))

    latency = rng.randint(40, 400) if vendor != "sandbox" else rng.randint(1, 5)
    finished = created + timedelta(milliseconds=latency)
    age = (now - created).total_seconds()

    # -- outcome ---------------------------------------------------------------------------
    roll = rng.random()
    status = "DELIVERED"
    error_code = vendor_code = vendor_text = tracking_note = None
    http_status = 200
    retryable = False
    failed_send = False
    tracked = True
    if vendor == "aligo" or vendor == "sandbox":
        tracked = vendor == "sandbox"
    if scheduled is not None and roll < 0.2:
        status = "CANCELLED"
    elif roll < 0.11:
        status = "FAILED"
        key = (vendor, "ALIMTALK" if mtype == "ALIMTALK" else "TEXT")
        if vendor == "sandbox":
            error_code, vendor_code, vendor_text = "NETWORK_ERROR", None, "connection refused"
            failed_send = True
        else:
            vendor_code = failure_draws[key].one(rng)
            entry = map_vendor_code(VENDOR_TABLE[key], vendor_code)
            error_code = entry.code.value
            vendor_text = (
                TABLES[VENDOR_TABLE[key]][vendor_code].meaning
                if vendor_code in TABLES[VENDOR_TABLE[key]]
                else entry.meaning
            )
            failed_send = not (vendor == "solapi" and vendor_code in TRACKED_FAILURES)
            if vendor_code in ("TooManyRequests", "429"):
                http_status = 429
            elif vendor_code == "SignatureDoesNotMatch":
                http_status = 401
        retryable = (
            ErrorCode(error_code).retryable_by_default and not proto.redacted and failed_send
        )
    elif roll < 0.125:
        status = "UNKNOWN"
        error_code, vendor_code, vendor_text = (
            "NETWORK_TIMEOUT",
            None,
            "read timeout after the request was sent",
        )
        http_status = None
        tracking_note = "TRACKING_TIMEOUT" if age > 86400 else None
    elif not tracked:
        status = "SENT"
        tracking_note = "UNSUPPORTED_PROVIDER"
    if age < 60 and status == "DELIVERED":
        status = "PENDING" if age < 20 else "SENT"

    # -- attempts (a failover first when the first provider failed retryably) ------------------
    attempt_rows = []
    failover_first = status in ("DELIVERED", "SENT") and rng.random() < 0.02 and not kakao
    number = 0
    if failover_first:
        other = "iwinv-main" if provider != "iwinv-main" else "solapi-main"
        number += 1
        attempt_rows.append(
            [
                next_ids["attempt"],
                row_id,
                number,
                "initial",
                other,
                created,
                created + timedelta(milliseconds=3000),
                3000,
                "failed",
                "NETWORK_ERROR",
                "connection failed: ConnectionRefusedError",
                None,
                None,
                None,
                None,
                None,
                console_operator,
            ]
        )
        next_ids["attempt"] += 1
    provider_message_id = None
    if status != "CANCELLED":
        number += 1
        accepted = not failed_send and status != "UNKNOWN"
        if accepted:
            provider_message_id = (
                f"M4V{created:%Y%m%d%H%M%S}{rng.getrandbits(60):015X}"[:32]
                if vendor == "solapi"
                else str(rng.randrange(10**9, 10**10))
            )
        outcome = "accepted" if accepted else ("unknown" if status == "UNKNOWN" else "failed")
        raw = (
            {
                "messageId": provider_message_id,
                "statusCode": "2000",
                "to": digits[:3] + "****" + digits[-4:],
            }
            if accepted
            else {"errorCode": vendor_code, "errorMessage": vendor_text}
            if vendor_code
            else None
        )
        attempt_rows.append(
            [
                next_ids["attempt"],
                row_id,
                number,
                "failover" if failover_first else "initial",
                provider,
                created,
                finished,
                latency,
                outcome,
                None if accepted else error_code,
                None if accepted else (vendor_text or "")[:500],
                None if accepted else vendor_code,
                None if accepted else vendor_text,
                None if accepted else http_status,
                provider_message_id,
                raw,
                console_operator,
            ]
        )
        next_ids["attempt"] += 1
    attempts.extend(attempt_rows)

    # -- timeline ---------------------------------------------------------------------------
    def event(at, ev_status, kind, detail):
        events.append([next_ids["event"], row_id, at, ev_status, kind, detail])
        next_ids["event"] += 1

    event(
        created,
        "UNKNOWN",
        "accepted",
        "accepted for sending; outcome unknown until a provider answers",
    )
    sent_at = delivered_at = failed_at = next_check = last_checked = None
    check_count = 0
    status_at = finished
    if status == "CANCELLED":
        event(created, "CANCELLED", "status", "scheduled send cancelled")
    elif failed_send:
        failed_at = finished
        event(finished, "FAILED", "status", f"{error_code}: {vendor_text}"[:500])
    elif status == "UNKNOWN":
        event(finished, "UNKNOWN", "status", f"{error_code}: outcome unknown (read timeout)")
        if tracking_note:
            status_at = created + timedelta(hours=24)
            event(status_at, "UNKNOWN", "status", "no final status after 24 hours")
        else:
            next_check = finished + timedelta(minutes=30)
    else:
        sent_at = finished
        first = "PENDING" if vendor in ("aligo",) else "SENT"
        event(finished, first, "status", f"accepted by {provider}")
        if status in ("DELIVERED", "FAILED"):
            check_count = rng.randint(1, 3)
            status_at = last_checked = finished + timedelta(
                seconds=30 * check_count + rng.randint(0, 20)
            )
            if status == "DELIVERED":
                delivered_at = status_at
                event(status_at, "DELIVERED", "status", "delivered")
            else:
                failed_at = status_at
                event(status_at, "FAILED", "status", f"{vendor_code}: {vendor_text}"[:500])
        elif status in ("SENT", "PENDING") and tracking_note is None:
            next_check = finished + timedelta(seconds=30)
            status_at = finished
        if tracking_note == "UNSUPPORTED_PROVIDER":
            check_count = 1
            last_checked = finished + timedelta(seconds=30)
    status_at = min(status_at, now)
    updated = max(status_at, finished) if status_at <= now else finished

    to_enc = keyring.encrypt(digits, f"message:{public_id}:to")
    body_enc = (
        keyring.encrypt(proto.text, f"message:{public_id}:body") if proto.text is not None else None
    )
    payload_enc = (
        keyring.encrypt(proto.payload_json, f"message:{public_id}:payload")
        if proto.payload_json is not None
        else None
    )
    logs.append(
        [
            row_id,
            public_id,
            created,
            min(updated, now),
            status,
            status_at,
            source,
            proto.requested_type,
            mtype,
            provider,
            provider_message_id,
            to_hash,
            to_enc,
            masked,
            None,  # dedupe_hash: the duplicate window is not what this bench measures
            SENDER if not kakao else None,
            proto.subject,
            body_enc,
            proto.redacted,
            payload_enc,
            proto.template_code,
            proto.byte_count,
            api_key_id,
            console_operator,
            idempotency,
            request_hash,
            error_code,
            vendor_code,
            vendor_text,
            http_status,
            retryable,
            len(attempt_rows),
            proto.warnings,
            scheduled,
            False,  # is_ad
            sent_at,
            delivered_at,
            failed_at,
            next_check,
            check_count,
            last_checked,
            tracking_note,
            None,  # fallback_of_id
            None,  # fallback_state
            None,  # resent_from_id
            None,  # campaign_id (send_logs.py gives some rows to campaigns afterwards)
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=common.BACKENDS, default="postgresql")
    args = parser.parse_args()
    print(common.machine_line())
    with common.temp_dir() as workdir, common.database(args.db, workdir) as url:
        app = common.make_app(url, workdir / "instance", common.fresh_keys())
        common.migrate(app)
        result = seed(app, args.rows)
        print(
            f"{args.db}: {result.rows:,} messages, {result.attempts:,} attempts, "
            f"{result.events:,} events in {result.seconds:.1f} s "
            f"(load {result.load_seconds:.1f} s = "
            f"{result.rows / result.load_seconds:,.0f} messages/s, "
            f"indexes + analyze {result.index_seconds:.1f} s)"
        )
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
