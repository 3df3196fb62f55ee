"""Issue 18 item 1: the Transparency page shows monitoring coverage as case_api computes it (new
accounts apart, never counted as covered) and says in one sentence how it is computed."""

from __future__ import annotations

from services.case_api.domain import monitoring
from shared.schemas.registry import AccountPublic, Platform
from shared.timeutil import utcnow
from tests.policy_api.helpers import published_policy


def _account(handle: str) -> AccountPublic:
    return AccountPublic.model_validate({
        "id": f"acct-{handle}", "platform": Platform.facebook, "handle": handle,
        "profile_url": f"https://facebook.com/{handle}", "department": "Police", "purpose": "news",
        "status": "active", "pio_name": None, "pio_title": None})


async def test_new_accounts_are_shown_as_new_and_not_as_covered(make_app, client, live, token, clock):
    case_app = make_app("case_api", relay_enabled=False, monitoring_sync_seconds=0)
    with case_app.state.db.write() as s:  # two accounts registered just now: nothing is due yet
        monitoring.sync_registry(s, accounts=[_account("abqpolice"), _account("abqpolice_ig")], now=utcnow(),
                                 cadence=monitoring.Cadence(), actor="test")
    case_api = live(case_app)
    api = client(make_app("policy_api", clock=clock, case_api_url=case_api.url))
    await published_policy(api, token)
    html = (await api.get("/transparency")).text
    table = html[html.index('id="cap-coverage"'):]
    table = table[:table.index("</table>")]
    assert "New (first review not yet due)" in table
    assert "<th scope=\"row\">Police</th><td>0</td><td>0</td><td>—</td><td>2</td>" in table
    assert "100 %" not in table
    assert "accounts whose first review is not yet due are shown as new and not counted" in html
    spanish = (await api.get("/transparency", params={"lang": "es"})).text
    assert "se muestran como nuevas y no se cuentan" in spanish
