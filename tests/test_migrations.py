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
