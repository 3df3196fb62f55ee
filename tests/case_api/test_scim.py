"""The employee directory over SCIM 2.0, driven by a third-party SCIM client (scim2-client):
create, filter by userName, replace, deactivate; and, when required, a case's employee must be a
known, active entry (issue 14, item 1)."""

from __future__ import annotations

from scim2_client.engines.asgi import ASGISCIMClient
from scim2_models import (
    EnterpriseUser,
    ListResponse,
    Name,
    PatchOp,
    PatchOperation,
    ResourceType,
    ScimProvider,
    User,
)

from tests.case_api.helpers import move, staff_case

UserE = User[EnterpriseUser]


async def test_the_scim_client_creates_updates_and_deactivates_an_employee(make_app, client, token):
    app = make_app("case_api", require_known_employees=True)
    scim = ASGISCIMClient(app, base_url="http://localhost/scim/v2", headers=token("admin", subject="idp-sync"),
                          provider=ScimProvider(models=[User, EnterpriseUser],
                                                 resource_types=[ResourceType.from_resource(UserE)]))
    created = await scim.create(UserE(user_name="EMP-1101", display_name="Pat Doe", name=Name(given_name="Pat",
                                      family_name="Doe"), active=True,
                                      EnterpriseUser=EnterpriseUser(department="parks")))
    assert created.id and created.user_name == "EMP-1101" and created.active is True
    assert created[EnterpriseUser].department == "Parks and Recreation"  # through the alias table
    found = await scim.query(UserE, query_parameters={"filter": 'userName eq "emp-1101"'})
    assert isinstance(found, ListResponse) and found.total_results == 1 and found.resources[0].id == created.id
    replaced = await scim.replace(UserE(id=created.id, user_name="emp-1101", display_name="Pat Doe-Smith",
                                        active=True))
    assert replaced.display_name == "Pat Doe-Smith"
    fetched = await scim.query(UserE, created.id)
    assert fetched.display_name == "Pat Doe-Smith"

    c = client(app)
    case = await staff_case(c, token)
    await move(c, token, case["id"], "triaged")
    await move(c, token, case["id"], "investigating")
    inv = token("investigator", subject="inv-1")
    r = await c.post(f"/v1/cases/{case['id']}/employee", json={"employee_id": "emp-9999"}, headers=inv)
    assert r.status_code == 422  # not in the directory
    r = await c.post(f"/v1/cases/{case['id']}/employee", json={"employee_id": "Emp-1101"}, headers=inv)
    assert r.status_code == 200 and r.json()["employee_id"] == "emp-1101"

    patch = PatchOp[UserE](operations=[PatchOperation[UserE](op=PatchOperation.Op.replace_, path="active",
                                                             value=False)])
    await scim.modify(UserE, created.id, patch)
    assert (await scim.query(UserE, created.id)).active is False
    r = await c.post(f"/v1/cases/{case['id']}/involved", json={"person_id": "emp-1101"}, headers=inv)
    assert r.status_code == 422  # inactive
    # a second entry with the same userName in another spelling is refused
    r = await c.post("/scim/v2/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                             "userName": " EMP-1101 "}, headers=token("admin"))
    assert r.status_code == 409 and r.json()["scimType"] == "uniqueness"
    assert (await c.get("/scim/v2/Users", headers=token("hr"))).status_code == 403


def test_the_directory_from_a_csv_export(databases, tmp_path):
    from typer.testing import CliRunner

    from services.cli import app as cli

    path = tmp_path / "employees.csv"
    path.write_text("Employee_ID,Display Name,Department,Active\n"
                    "EMP-2001,Ana Ruiz,parks,true\n"
                    " emp-2002 ,Bo Lee,APD,yes\n"
                    ",Nobody,Police,true\n"
                    "emp-2001,Ana Ruiz again,Parks,true\n", encoding="utf-8")
    url = databases["case_api"].url
    out = CliRunner().invoke(cli, ["cases", "import-employees", str(path), "--database-url", url])
    assert out.exit_code == 1 and '"created": 2' in out.output, out.output
    assert '"row": 4' in out.output and '"row": 5' in out.output
    path.write_text("userName,displayName,department,active\nemp-2001,Ana Ruiz,Parks and Recreation,false\n"
                    "emp-2002,Bo Lee,Police,true\n", encoding="utf-8")
    out = CliRunner().invoke(cli, ["cases", "import-employees", str(path), "--database-url", url])
    assert out.exit_code == 0, out.output
    assert '"created": 0, "updated": 1, "unchanged": 1' in out.output
