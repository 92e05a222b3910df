"""A provider setting's example value is shown as code beside its translated help, so the
operator's language never has to carry the example's English syntax."""

from __future__ import annotations

import re

from kmsg_console.operators.models import Role


def test_the_sandbox_script_example_is_code_in_the_korean_hint(console):
    console.login(Role.ADMIN)
    page = console.client.get(
        "/providers/new?vendor=sandbox", headers={"Accept-Language": "ko"}
    ).get_data(as_text=True)
    [hint] = [
        h for h in re.findall(r'<small class="hint">(.*?)</small>', page, re.S) if "쉼표" in h
    ]
    assert "<code>fail:PROVIDER_ERROR,timeout,ok</code>" in hint
    prose = re.sub(r"<code>.*?</code>", "", hint)
    assert not re.search(r"[A-Za-z]", prose), prose
