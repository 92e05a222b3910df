"""The upgrade registers the profiles an install already sends through, so AlimTalk keeps going."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from kmsg_console import migrate
from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.kakao_channels.models import KakaoProfile
from kmsg_console.message_templates import services, sync
from tests.message_templates.conftest import SOLAPI_PF_ID, make_template

BEFORE = "f3b9d2c6a815"  # the sender-numbers migration, before sender profiles


def _migrate(app, revision: str, *, down: bool) -> None:
    config = migrate.alembic_config(app)
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_the_upgrade_keeps_an_existing_alimtalk_sending(
    app, ctx, client, providers, simulator, actor
):
    template = make_template(providers["solapi"], actor)
    services.register_template(template, actor=actor)
    simulator.control.approve_template("solapi", template.vendor_code)
    sync.sync_template(template, actor=actor)
    # A second template bound to another channel of the same account, typed before profiles.
    other = make_template(providers["solapi"], actor, name="다른 채널")
    db.session.commit()
    other_id, code = other.id, template.vendor_code
    key = issue_key("shop", ["send"], actor_label="test").plaintext
    db.session.commit()
    db.session.remove()

    _migrate(app, BEFORE, down=True)  # an install from before sender profiles
    with app.app_context():
        assert "kakao_profile" not in sa.inspect(db.engine).get_table_names()
        db.session.execute(
            sa.text(
                "UPDATE message_template SET sender_profile = 'KA01PFOLDCHANNEL', "
                "plus_id = '@oldshop' WHERE id = :id"
            ),
            {"id": other_id},
        )
        db.session.commit()
        db.session.remove()
    _migrate(app, "heads", down=False)

    rows = {
        (p.provider_code, p.profile_key): p for p in db.session.scalars(sa.select(KakaoProfile))
    }
    assert set(rows) == {
        ("solapi-main", SOLAPI_PF_ID),  # the provider's kakao_pf_id (and the template's)
        ("aligo-main", "demo-sender-key"),  # Aligo's sender_key
        ("solapi-main", "KA01PFOLDCHANNEL"),  # only a template used it
    }
    assert {p.status for p in rows.values()} == {"unknown"}
    assert rows[("solapi-main", SOLAPI_PF_ID)].source == "settings"
    old = rows[("solapi-main", "KA01PFOLDCHANNEL")]
    assert (old.source, old.plus_id) == ("upgrade", "@oldshop")

    sent = client.post(
        "/api/v1/messages",
        json={
            "to": "010-1234-5678",
            "type": "ALIMTALK",
            "template_code": code,
            "variables": {"name": "김민수", "order": "A-1"},
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert sent.status_code == 201 and sent.get_json()["status"] == "SENT", sent.get_json()
    [message] = simulator.control.messages("solapi")
    assert message["kakaoOptions"]["pfId"] == SOLAPI_PF_ID
