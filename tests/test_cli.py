"""The command line: migrations, bootstrap and operator creation."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from kmsg_console.cli import prepare_database
from kmsg_console.config import SETTINGS
from kmsg_console.extensions import db
from kmsg_console.operators import passwords
from kmsg_console.operators.models import Operator, Role
from kmsg_console.operators.services import find_by_email
from kmsg_console.otp.models import VerificationPurpose
from kmsg_console.server import SHUTDOWN_CHAIN, shutdown_grace
from kmsg_console.throttle.models import ThrottleMode, ThrottlePolicy


def test_operators_create_reads_password_from_stdin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["operators", "create", "cli@example.com", "--role", "operator", "--password-stdin"],
        input="a long cli password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        operator = find_by_email("cli@example.com")
        assert operator.role == Role.OPERATOR
        assert passwords.verify_password(operator.password_hash, "a long cli password")


def test_operators_create_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(
        args=["operators", "create", "cli@example.com", "--role", "viewer", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code != 0 and "too short" in result.output


def test_bootstrap_generates_and_prints_a_password_once(app, capsys):
    prepare_database(app)
    out = capsys.readouterr().out
    assert "Generated password" in out
    generated = out.split("Generated password (shown only now): ")[1].split()[0]
    with app.app_context():
        admin = find_by_email(app.config["ADMIN_EMAIL"])
        assert admin.role == Role.ADMIN and passwords.verify_password(
            admin.password_hash, generated
        )
        assert generated not in admin.password_hash
    prepare_database(app)  # a second start creates nothing and prints no password
    assert "Generated password" not in capsys.readouterr().out
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Operator)) == 1


def test_first_start_seeds_purposes_and_rate_limits_once(app):
    prepare_database(app)
    with app.app_context():
        policies = db.session.scalars(sa.select(ThrottlePolicy)).all()
        assert {p.name for p in policies} >= {"OTP starts per phone", "OTP starts per IP"}
        assert all(p.mode == ThrottleMode.ENFORCE and p.enabled for p in policies)
        policies[0].enabled = False
        disabled_id, count = policies[0].id, len(policies)
        db.session.commit()
    prepare_database(app)  # a restart neither duplicates nor re-enables them
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ThrottlePolicy)) == count
        assert db.session.get(ThrottlePolicy, disabled_id).enabled is False
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationPurpose)) >= 4


def test_bootstrap_uses_the_configured_password(app, capsys):
    app.config["ADMIN_EMAIL"] = "boss@example.com"
    app.config["ADMIN_PASSWORD"] = "configured admin password"
    prepare_database(app)
    assert "Generated password" not in capsys.readouterr().out
    with app.app_context():
        admin = find_by_email("boss@example.com")
        assert passwords.verify_password(admin.password_hash, "configured admin password")


def test_keys_are_generated_once_with_private_permissions(tmp_path):
    from kmsg_console import create_app

    first = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    second = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    assert first.secret_key == second.secret_key
    for name in ("secret_key", "encryption_keys", "hash_key"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


def test_environment_keys_win_over_files(tmp_path, monkeypatch):
    from kmsg_console import create_app

    monkeypatch.setenv("KMSG_SECRET_KEY", "from-the-environment")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    assert app.secret_key == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_readme_lists_every_setting():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [s.name for s in SETTINGS if f"`KMSG_{s.name}`" not in readme]
    assert missing == []


def test_shutdown_grace_covers_a_send_through_a_failover_chain():
    assert shutdown_grace(3.0, 10.0) >= SHUTDOWN_CHAIN * 13
    assert shutdown_grace(3.0, 30.0) >= SHUTDOWN_CHAIN * 33  # longer timeouts, longer grace
    assert shutdown_grace(0.5, 1.0) == 30
