"""Alembic has one head, and upgrading an empty database builds exactly the models' schema."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kmsg_console import migrate
from kmsg_console.extensions import db
from kmsg_console.models import metadata


def test_migrations_have_a_single_head(app):
    assert len(migrate.heads(app)) == 1


def test_upgrade_from_empty_matches_the_models(app):
    # The session's database was built by `migrate.upgrade` from empty (see conftest).
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
        assert differences == []
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert version == migrate.heads(app)[0]


def test_the_check_notices_a_schema_drift(app):
    drifted = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    sa.Table("not_migrated", drifted, sa.Column("id", sa.Integer, primary_key=True))
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert any(diff[0] == "add_table" for diff in compare_metadata(context, drifted))


def test_one_pending_migration_keeps_each_numbers_newest_pending_code(tmp_path):
    from datetime import timedelta

    from kmsg_console.extensions import dispose_engines
    from kmsg_console.orm import utcnow
    from kmsg_console.otp.models import Verification, VerificationPurpose
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path / 'old.db'}", tmp_path / "instance")
    migrate.upgrade(app, "7c5e2a9d41b3")  # before the unique index: races could leave pairs
    now = utcnow()
    with app.app_context():
        purpose = db.session.execute(
            sa.insert(VerificationPurpose.__table__)
            .values(code="login", name="Login")
            .returning(VerificationPurpose.__table__.c.id)
        ).scalar()

        def verification(public_id, phone_hash, status, age_seconds):
            at = now - timedelta(seconds=age_seconds)
            db.session.execute(
                sa.insert(Verification.__table__).values(
                    public_id=public_id,
                    purpose_id=purpose,
                    created_at=at,
                    status=status,
                    status_updated_at=at,
                    phone_hash=phone_hash,
                    phone_enc="x",
                    phone_masked="010-****-0000",
                    code_hash="h",
                    expires_at=at + timedelta(minutes=3),
                    checks=0,
                    max_checks=5,
                    channel="sms",
                )
            )

        verification("older", "phone-a", "pending", 60)
        verification("newer", "phone-a", "pending", 10)
        verification("approved", "phone-a", "approved", 30)
        verification("alone", "phone-b", "pending", 60)
        db.session.commit()
    migrate.upgrade(app)
    with app.app_context():
        statuses = dict(
            db.session.execute(sa.select(Verification.public_id, Verification.status)).all()
        )
        db.session.remove()
        dispose_engines()
    assert statuses == {
        "older": "canceled",
        "newer": "pending",
        "approved": "approved",
        "alone": "pending",
    }
