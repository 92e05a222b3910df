"""Running Alembic migrations from the application (no alembic.ini needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask

from kmsg_console.extensions import db
from kmsg_console.paths import resource_dir


def alembic_config(app: Flask) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.set_main_option("sqlalchemy.url", app.config["DATABASE_URL"].replace("%", "%%"))
    config.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s",
    )
    return config


def upgrade(app: Flask, revision: str = "heads") -> None:
    """Apply migrations up to ``revision`` on the app's database."""
    config = alembic_config(app)
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def heads(app: Flask) -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(app)).get_heads())


def revision(app: Flask, message: str) -> None:
    """Autogenerate a new migration from the models (for developers)."""
    config = alembic_config(app)
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
