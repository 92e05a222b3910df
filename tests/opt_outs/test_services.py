"""Opt-out storage: one number in any spelling, unique per scope, never stored in clear."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.opt_outs import services
from kmsg_console.opt_outs.models import GLOBAL_SCOPE, OptOut, OptOutSource

SPELLINGS = ["+82 10-1234-5678", "010-1234-5678", "01012345678", "+821012345678"]


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield
        db.session.rollback()


def _add(phone, scope=None, note=""):
    result = services.add_opt_out(
        phone, scope, note, source=OptOutSource.CONSOLE, actor_label="ops@example.com"
    )
    db.session.commit()
    return result


@pytest.mark.parametrize("spelling", SPELLINGS[1:])
def test_every_spelling_of_a_number_is_the_same_opt_out(ctx, spelling):
    first = _add(SPELLINGS[0])
    again = _add(spelling)
    assert first.created and not again.created
    assert again.opt_out.id == first.opt_out.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OptOut)) == 1


def test_a_number_may_be_listed_once_per_scope(ctx):
    assert _add("010-1234-5678").created
    assert _add("010-1234-5678", "080-123-4567").created
    assert not _add("01012345678", "+82 80-123-4567").created
    assert _add("010-1234-5678", "080-1234-5678").created
    scopes = db.session.scalars(sa.select(OptOut.scope).order_by(OptOut.id)).all()
    assert scopes == [GLOBAL_SCOPE, "0801234567", "08012345678"]


def test_the_unique_constraint_holds_without_the_lookup(ctx):
    _add("010-1234-5678")
    row = db.session.scalar(sa.select(OptOut))
    db.session.expunge(row)
    db.session.add(
        OptOut(
            phone_hash=row.phone_hash,
            phone_enc=row.phone_enc,
            phone_masked=row.phone_masked,
            scope=row.scope,
            source=row.source,
            note="",
            created_by="x",
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()


def test_the_number_is_masked_encrypted_and_never_stored_in_clear(app, ctx):
    _add("+82 10-1234-5678", note="called the 080 line")
    row = db.session.execute(sa.text("SELECT * FROM opt_out")).mappings().one()
    assert row["phone_masked"] == "010-****-5678"
    for value in row.values():
        text = str(value)
        assert "12345678" not in text and "1234-5678" not in text
    keyring = app.config["KEYRING"]
    assert keyring.decrypt(row["phone_enc"], services.PHONE_ENC_PURPOSE) == "01012345678"
    audit = db.session.scalars(sa.select(AuditEvent.details)).all()
    assert "12345678" not in str(audit) and "010-****-5678" in str(audit)


def test_the_lookup_hash_is_the_send_logs_hash(ctx):
    from kmsg_console.sending.reading import phone_hash

    result = _add("010-1234-5678")
    assert result.opt_out.phone_hash == phone_hash("+82 10 1234 5678")


@pytest.mark.parametrize(
    ("phone", "scope", "field"),
    [
        ("", None, "phone"),
        ("02-123-4567", None, "phone"),  # a landline receives no text messages
        ("010-CALL-NOW", None, "phone"),
        ("010-1234-5678", "1588-1234", "scope"),
        ("010-1234-5678", "080-12", "scope"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(ctx, phone, scope, field):
    with pytest.raises(services.OptOutError) as refused:
        services.add_opt_out(phone, scope, source=OptOutSource.API, actor_label="key")
    assert refused.value.field == field
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OptOut)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_search_finds_a_number_by_any_spelling_and_filters_by_scope(ctx):
    _add("010-1234-5678")
    _add("010-1234-5678", "080-123-4567")
    _add("010-9999-0000", "080-123-4567")
    found = services.search({"phone": "+82 10 1234 5678"}, cursor=None, per_page=10)
    assert len(found.items) == 2
    found = services.search(
        {"phone": "01012345678", "scope": GLOBAL_SCOPE}, cursor=None, per_page=10
    )
    assert [o.scope for o in found.items] == [GLOBAL_SCOPE]
    by_line = services.search({"scope": "0801234567"}, cursor=None, per_page=10)
    assert {o.phone_masked for o in by_line.items} == {"010-****-5678", "010-****-0000"}
    assert services.scopes_in_use() == ["0801234567"]


def test_pages_are_newest_first_and_complete(ctx):
    for n in range(5):
        _add(f"010-0000-000{n}")
    first = services.search({}, cursor=None, per_page=3)
    second = services.search({}, cursor=first.next_cursor, per_page=3)
    masked = [o.phone_masked for o in first.items + second.items]
    assert masked == [f"010-****-000{n}" for n in reversed(range(5))]
    assert second.next_cursor is None


def test_remove_is_audited_with_the_masked_number(ctx):
    result = _add("010-1234-5678", "080-123-4567")
    services.remove_opt_out(result.opt_out, actor=None)
    db.session.commit()
    assert db.session.scalar(sa.select(OptOut)) is None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "opt_out.remove"))
    assert event.details == {
        "before": {
            "phone": "010-****-5678",
            "scope": "080-123-4567",
            "source": "console",
            "note": "",
        }
    }


def test_import_adds_valid_rows_and_reports_the_rest_by_line(ctx):
    _add("010-1111-2222")
    data = (
        b"phone,scope,note\n"
        b"010-1234-5678,,from the call center\n"
        b"01011112222,,\n"
        b"010-12,,\n"
        b"+82 10 3333 4444,080-123-4567,\n"
        b"\n"
        b"010-5555-6666,1588-1234,\n"
    )
    report = services.import_csv(data, actor=None)
    db.session.commit()
    assert (report.added, report.present) == (2, 1)
    assert [row.line for row in report.invalid] == [4, 7]
    assert report.invalid[0].reason == services.NOT_A_MOBILE_NUMBER
    assert "555" not in str(report.invalid)
    sources = db.session.scalars(sa.select(OptOut.source).order_by(OptOut.id)).all()
    assert sources == ["console", "csv", "csv"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "opt_out.import"))
    assert event.details == {"added": 2, "already_present": 1, "invalid_rows": 2}


def test_import_reads_cp949_files_from_korean_spreadsheets(ctx):
    report = services.import_csv(
        "phone,note\n010-1234-5678,고객 요청\n".encode("cp949"), actor=None
    )
    db.session.commit()
    assert report.added == 1
    assert db.session.scalar(sa.select(OptOut.note)) == "고객 요청"


@pytest.mark.parametrize("data", [b"", b"number,note\n010-1234-5678,x\n", b"\xff\xfe\xff phone\n"])
def test_an_unreadable_file_adds_nothing(ctx, data):
    with pytest.raises(services.OptOutError):
        services.import_csv(data, actor=None)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OptOut)) == 0
