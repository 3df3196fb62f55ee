"""One identity per employee and department (issue 14, item 1, the part case_api owns): ids and
departments are compared by key, never by spelling; existing values are migrated, audited and
re-sealed, with a report of what could not be mapped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from services.case_api.domain import audit, directory, identity
from services.case_api.domain.models import AuditEntry, Case
from services.cli import app as cli
from shared.db import Database
from shared.timeutil import utcnow
from tests.case_api.helpers import staff_case, sustained


def test_keys_and_aliases():
    assert identity.person_key(" EMP-1101 ") == identity.person_key("emp-1101") == "emp-1101"
    assert identity.person_key("Emp\u00a01101") == "emp 1101"  # NFKC: a no-break space is a space
    for spelling in ("Parks", "parks", " Parks and Recreation ", "Parks & Recreation", "PARKS AND REC",
                     "Parques y Recreación"):
        assert identity.department(spelling) == "Parks and Recreation", spelling
    assert identity.department("police") == identity.department("APD") == "Police"
    assert identity.map_department("Public Works Dept") == identity.Mapped("Public Works Dept", False)
    assert identity.department(None) is None and identity.department("  ") is None
    assert identity.display("Parks and Recreation", "es") == "Parques y Recreación"


@given(st.text(max_size=40))
def test_keys_are_stable(text):
    key = identity.person_key(text)
    assert key is None or (identity.person_key(key) == key and key == key.strip())
    assert identity.department(identity.department(text)) == identity.department(text)


async def test_a_change_of_case_in_the_employee_id_does_not_reset_the_ladder(make_app, client, token):
    c = client(make_app("case_api"))
    for _ in range(3):
        await sustained(c, token, employee="emp-1101", severity=2)
    upper = await sustained(c, token, employee="EMP-1101", severity=2)
    lower = await sustained(c, token, employee="emp-1101", severity=2)
    assert upper["recommendation"]["prior_count"] == 3 and lower["recommendation"]["prior_count"] == 4
    assert upper["recommendation"]["action"] == lower["recommendation"]["action"]  # both "3 or more"
    assert upper["employee_id"] == "emp-1101"


async def test_department_claims_and_filters_go_through_the_aliases(make_app, client, token):
    c = client(make_app("case_api"))
    parks = await staff_case(c, token, department="Parks")
    police = [await staff_case(c, token, department=d) for d in ("Police", "police", "APD")]
    assert parks["department"] == "Parks and Recreation"
    assert {p["department"] for p in police} == {"Police"}
    registry_spelling = token("department_director", department="Parks and Recreation", subject="dir-parks")
    listed = (await c.get("/v1/cases", headers=registry_spelling)).json()
    assert [x["id"] for x in listed["items"]] == [parks["id"]]
    assert (await c.get(f"/v1/cases/{parks['id']}", headers=registry_spelling)).status_code == 200
    lower = token("pio", department="police", subject="pio-police")
    assert (await c.get("/v1/cases", headers=lower)).json()["total"] == 3
    inv = token("investigator", subject="inv-1")
    assert (await c.get("/v1/cases", params={"department": "PARKS"}, headers=inv)).json()["total"] == 1
    r = await c.post(f"/v1/cases/{parks['id']}/transitions", json={"to": "triaged"}, headers=inv)
    assert r.status_code == 200
    assert (await c.post(f"/v1/cases/{parks['id']}/assignee", json={"assignee": " Inv-1 "},
                         headers=inv)).json()["assignee"] == "inv-1"
    assert (await c.get("/v1/cases", params={"assignee": "INV-1"}, headers=inv)).json()["total"] == 1


async def test_existing_free_text_values_are_migrated_with_a_report(make_app, client, token, databases):
    app = make_app("case_api")
    c = client(app)
    ids = [(await staff_case(c, token, department="Police"))["id"] for _ in range(3)]
    db: Database = app.state.db
    # what the code before issue 14 wrote: free text, sealed by the change that wrote it
    legacy = {ids[0]: ("parks", "EMP-1101", "Inv-1"), ids[1]: ("Public Works Dept", " emp-1101", None),
              ids[2]: ("Police", "emp-1101", None)}
    with db.write() as s:
        for cid, (dept, emp, assignee) in legacy.items():
            case = s.get(Case, cid)
            assert case is not None
            case.department, case.employee_id, case.assignee = dept, emp, assignee
            s.add(case)
            s.flush()
            audit.append(s, actor="legacy", action="case.employee_identified", case_id=cid, detail={}, now=utcnow(),
                         seal=[case])
    report = directory.canonicalise_existing(db, now=utcnow())
    assert report.as_dict() == {"cases_checked": 3, "cases_changed": 2, "accounts_changed": 0, "reviews_changed": 0,
                                "unmapped_departments": {"Public Works Dept": 1}, "skipped_unsealed": []}
    with db.read() as s:
        got = {cid: (s.get(Case, cid).department, s.get(Case, cid).employee_id, s.get(Case, cid).assignee)
               for cid in ids}
    assert got == {ids[0]: ("Parks and Recreation", "emp-1101", "inv-1"),
                   ids[1]: ("Public Works Dept", "emp-1101", None), ids[2]: ("Police", "emp-1101", None)}
    assert audit.verify(db).ok
    # the command line runs the same use-case; a second run changes nothing
    out = CliRunner().invoke(cli, ["cases", "canonicalise", "--database-url", databases["case_api"].url])
    assert out.exit_code == 0, out.output
    assert '"cases_changed": 0' in out.output and '"Public Works Dept": 1' in out.output
    with db.read() as s:
        assert len(list(s.exec(select(AuditEntry).where(AuditEntry.action == "case.keys_canonicalised")))) == 2
    # the migrated ids now share the ladder's priors: the auditor never sees them in the trail
    trail = (await c.get(f"/v1/audit/cases/{ids[0]}", headers=token("auditor"))).text.lower()
    assert "emp-1101" not in trail
