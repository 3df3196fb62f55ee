"""Recovery (issue 15 item 4): a case whose rows were edited outside the application is frozen
(every write 409); an auditor and an admin, two people, examine it, see what differs and re-seal
it with written reasons, which are audit entries of their own; the case then takes writes again
and verifies ok, while the chain still holds the old seals."""

from __future__ import annotations

from sqlalchemy import select, text

from services.case_api.domain.models import AuditEntry
from tests.case_api.helpers import move, staff_case
from tests.support.sqlcount import count_statements

REASON = "The department renamed itself; the clerk fixed the row by hand."
CONFIRM = "Checked the paper file: the new department is the right one."


async def _edited_case(c, token, databases) -> str:
    case = await staff_case(c, token)
    cid = case["id"]
    assert (await move(c, token, cid, "triaged")).status_code == 200
    assert (await c.post(f"/v1/cases/{cid}/notes", json={"body": "Called the PIO."},
                         headers=token("investigator"))).status_code == 201
    with databases["case_api"].engine.begin() as conn:
        conn.execute(text("UPDATE cases SET department = 'Transit' WHERE id = :id"), {"id": cid})
        conn.execute(text("DELETE FROM case_notes WHERE case_id = :id"), {"id": cid})
    return cid


async def test_an_auditor_and_an_admin_re_seal_a_frozen_case(make_app, client, token, databases):
    c = client(make_app("case_api"))
    cid = await _edited_case(c, token, databases)
    auditor, admin = token("auditor", subject="aud-1"), token("admin", subject="adm-1")
    assert (await move(c, token, cid, "investigating")).status_code == 409  # frozen

    r = await c.get(f"/v1/audit/cases/{cid}/integrity", headers=auditor)
    assert r.status_code == 200 and r.json()["ok"] is False
    found = {(p["table"], p["problem"].split(" (")[0], tuple(p["differs"])) for p in r.json()["row_problems"]}
    assert found == {("cases", "row differs from its last audited state", ("department",)),
                     ("case_notes", "audited row is missing", ())}

    assert (await c.post(f"/v1/audit/cases/{cid}/reseal", json={"reason": "too short"},
                         headers=auditor)).status_code == 422
    r = await c.post(f"/v1/audit/cases/{cid}/reseal", json={"reason": REASON}, headers=auditor)
    assert r.status_code == 201, r.text
    proposal = r.json()
    assert proposal["status"] == "proposed" and proposal["proposer_role"] == "auditor"
    url = f"/v1/audit/reseal/{proposal['id']}/confirm"
    # not the same person, not the same role, not one person holding both
    assert (await c.post(url, json={"reason": CONFIRM}, headers=auditor)).status_code == 403
    assert (await c.post(url, json={"reason": CONFIRM}, headers=token("auditor", subject="aud-2"))).status_code == 403
    assert (await c.post(url, json={"reason": CONFIRM},
                         headers=token("auditor", "admin", subject="both-1"))).status_code == 403
    assert (await c.post(url, json={"reason": CONFIRM}, headers=token("hr", subject="hr-1"))).status_code == 403
    r = await c.post(url, json={"reason": CONFIRM}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed" and r.json()["confirmed_by"] == "adm-1"
    assert (await c.post(url, json={"reason": CONFIRM}, headers=admin)).status_code == 409  # done

    v = (await c.get("/v1/audit/verify", headers=auditor)).json()
    assert v["ok"] is True, v
    assert (await move(c, token, cid, "investigating")).status_code == 200  # no longer frozen
    with databases["case_api"].engine.connect() as conn:
        entries = {e.action: e for e in conn.execute(select(AuditEntry).where(AuditEntry.case_id == cid))}
    assert entries["integrity.reseal_proposed"].detail["reason"] == REASON
    done = entries["integrity.resealed"].detail
    assert (done["examined_by"], done["confirmed_by"], done["reason"], done["confirm_reason"]) == (
        "aud-1", "adm-1", REASON, CONFIRM)
    assert {(p["table"], tuple(p["differs"] or [])) for p in done["problems"]} == {
        ("cases", ("department",)), ("case_notes", ())}
    listed = (await c.get(f"/v1/audit/cases/{cid}/reseal", headers=admin)).json()
    assert [p["status"] for p in listed] == ["confirmed"]


async def test_a_row_changed_after_examination_cannot_be_confirmed(make_app, client, token, databases):
    c = client(make_app("case_api"))
    cid = await _edited_case(c, token, databases)
    r = await c.post(f"/v1/audit/cases/{cid}/reseal", json={"reason": REASON}, headers=token("admin", subject="a-1"))
    assert r.status_code == 201
    with databases["case_api"].engine.begin() as conn:
        conn.execute(text("UPDATE cases SET summary = 'and another edit' WHERE id = :id"), {"id": cid})
    r = await c.post(f"/v1/audit/reseal/{r.json()['id']}/confirm", json={"reason": CONFIRM},
                     headers=token("auditor", subject="aud-1"))
    assert r.status_code == 409 and r.json()["integrity"] == "changed_since_examined"
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["ok"] is False


async def test_nothing_to_re_seal_and_other_roles_are_refused(make_app, client, token):
    c = client(make_app("case_api"))
    cid = (await staff_case(c, token))["id"]
    r = await c.post(f"/v1/audit/cases/{cid}/reseal", json={"reason": REASON}, headers=token("auditor"))
    assert r.status_code == 409
    assert (await c.get(f"/v1/audit/cases/{cid}/integrity", headers=token("investigator"))).status_code == 403
    assert (await c.get("/v1/audit/cases/nope/integrity", headers=token("auditor"))).status_code == 404


async def test_the_integrity_view_and_proposals_have_a_fixed_query_shape(make_app, client, token, databases):
    """As many statements for a case file of 1 note (and 1 proposal) as for 50."""
    app = make_app("case_api")
    c = client(app)
    auditor, inv = token("auditor"), token("investigator")
    counts = []
    for n in (1, 50):
        cid = (await staff_case(c, token))["id"]
        for i in range(n):
            assert (await c.post(f"/v1/cases/{cid}/notes", json={"body": f"note {i}"}, headers=inv)).status_code == 201
        with databases["case_api"].engine.begin() as conn:
            conn.execute(text("UPDATE case_notes SET body = 'edited' WHERE case_id = :id"), {"id": cid})
        for _ in range(n):
            assert (await c.post(f"/v1/audit/cases/{cid}/reseal", json={"reason": REASON},
                                 headers=auditor)).status_code == 201
        with count_statements(app.state.db) as integrity:
            r = await c.get(f"/v1/audit/cases/{cid}/integrity", headers=auditor)
        assert len(r.json()["row_problems"]) == n
        with count_statements(app.state.db) as listed:
            r = await c.get(f"/v1/audit/cases/{cid}/reseal", headers=auditor)
        assert len(r.json()) == n
        counts.append((integrity.n, listed.n))
    assert counts[0] == counts[1], counts


async def test_seals_are_not_shown_to_auditors(make_app, client, token):
    """A seal's column hashes could confirm a guess of the employee's id: auditors read entries without them."""
    c = client(make_app("case_api"))
    cid = (await staff_case(c, token))["id"]
    assert (await c.post(f"/v1/cases/{cid}/employee", json={"employee_id": "emp-5"},
                         headers=token("investigator"))).status_code == 200
    by_auditor = (await c.get(f"/v1/audit/cases/{cid}", headers=token("auditor"))).json()
    by_admin = (await c.get(f"/v1/audit/cases/{cid}", headers=token("admin"))).json()
    assert by_auditor and all("seals" not in e["detail"] for e in by_auditor)
    assert any("seals" in e["detail"] for e in by_admin)


async def test_baseline_seals_rows_that_predate_sealing_once(make_app, client, token, databases):
    """An upgraded database: notes written before the whole case file was sealed have no seal."""
    from typer.testing import CliRunner

    from services.cli import app as cli

    c = client(make_app("case_api"))
    cid = (await staff_case(c, token))["id"]
    assert (await c.post(f"/v1/cases/{cid}/notes", json={"body": "old note"},
                         headers=token("investigator"))).status_code == 201
    with databases["case_api"].engine.begin() as conn:  # as it was before: a note no entry seals
        conn.execute(text("INSERT INTO case_notes (id, case_id, author, body, created_at) SELECT 'legacy-note', "
                          "case_id, author, 'from 2025', created_at FROM case_notes WHERE case_id = :id"), {"id": cid})
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["row_problems_total"] == 1
    url = databases["case_api"].url
    out = CliRunner().invoke(cli, ["audit", "baseline", "--database-url", url])
    assert out.exit_code == 0 and '"rows_sealed": 1' in out.output, out.output
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["ok"] is True
    again = CliRunner().invoke(cli, ["audit", "baseline", "--database-url", url])
    assert '"rows_sealed": 0' in again.output and '"entries": 0' in again.output
