"""An AlimTalk campaign: the approved template's code, each recipient's variables, sent once
to each number through the SOLAPI simulator."""

from __future__ import annotations

from kmsg_console.campaigns import services
from kmsg_console.extensions import db
from tests.campaigns.conftest import make_campaign, numbers, run_until_done
from tests.message_templates.conftest import actor, ctx, providers  # noqa: F401 - fixtures
from tests.message_templates.test_sending import _approved


def test_an_alimtalk_campaign_fills_each_recipients_variables(
    ctx, providers, simulator, actor, clock
):
    # SOLAPI only: the other test providers are switched off.
    for vendor in ("sandbox", "iwinv", "aligo"):
        providers[vendor].enabled = False
    db.session.commit()
    template = _approved(providers, simulator, actor, "solapi")
    phones = numbers(3)
    lines = ["phone,name,order", *[f"{p},고객{i},A-{i}" for i, p in enumerate(phones)]]
    campaign = make_campaign(lines, text=None, template_code=template.vendor_code, rate=50)
    assert services.preview_of(campaign).types == {"ALIMTALK": 3}
    run_until_done()
    progress = services.progress(campaign)
    assert (progress.sent, progress.failed) == (3, 0)
    sent = simulator.control.messages("solapi")
    assert sorted(m["to"] for m in sent) == sorted(phones)
    assert all(m.get("type") == "ATA" for m in sent), sent[0]
