"""SCIM 2.0 ``/scim/v2/Users`` (RFC 7643/7644): the City's identity system keeps the employee
directory in sync. Create, read, replace, PATCH (``active``, ``displayName``), ``DELETE`` (deactivates;
a case keeps naming a former employee) and ``filter=userName eq "..."``. Answers are
``application/scim+json``; errors are SCIM ``Error`` messages. Needs the ``admin`` role (the IdP's
provisioning client) until the kernel has a provisioning role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from services.case_api.domain import employees
from services.case_api.domain.employees import EmployeeFields
from services.case_api.domain.models import Employee
from shared.auth import Principal, Role
from shared.errors import DomainError
from shared.web import ClockDep, DatabaseDep, require_roles
from shared.web.routing import APIRouter

router = APIRouter(prefix="/scim/v2", tags=["scim"])
Provisioner = Annotated[Principal, Depends(require_roles(Role.admin))]
Id36 = Annotated[str, Path(max_length=36)]
SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class _Name(BaseModel):
    model_config = ConfigDict(extra="ignore")
    givenName: str | None = Field(default=None, max_length=100)
    familyName: str | None = Field(default=None, max_length=100)


class _Enterprise(BaseModel):
    model_config = ConfigDict(extra="ignore")
    department: str | None = Field(default=None, max_length=120)


class ScimUserIn(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    userName: str = Field(min_length=1, max_length=100)
    externalId: str | None = Field(default=None, max_length=200)
    displayName: str | None = Field(default=None, max_length=200)
    name: _Name | None = None
    active: bool = True
    enterprise: _Enterprise | None = Field(default=None, alias=ENTERPRISE)

    def fields(self) -> EmployeeFields:
        return EmployeeFields(user_name=self.userName, external_id=self.externalId, display_name=self.displayName,
                              given_name=self.name.givenName if self.name else None,
                              family_name=self.name.familyName if self.name else None,
                              department=self.enterprise.department if self.enterprise else None, active=self.active)


class _Operation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    op: str = Field(max_length=10)
    path: str | None = Field(default=None, max_length=100)
    value: Any = None


class ScimPatchIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    Operations: list[_Operation] = Field(min_length=1, max_length=20)


def _user(row: Employee) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schemas": [USER, ENTERPRISE] if row.department else [USER], "id": row.id, "userName": row.user_name,
        "active": row.active,
        "meta": {"resourceType": "User", "created": row.created_at.isoformat(),
                 "lastModified": row.updated_at.isoformat(), "location": f"/scim/v2/Users/{row.id}",
                 "version": f'W/"{row.version}"'}}
    if row.external_id:
        out["externalId"] = row.external_id
    if row.display_name:
        out["displayName"] = row.display_name
    if row.given_name or row.family_name:
        out["name"] = {k: v for k, v in (("givenName", row.given_name), ("familyName", row.family_name)) if v}
    if row.department:
        out[ENTERPRISE] = {"department": row.department}
    return out


def _scim(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=SCIM)


def _error(exc: DomainError) -> JSONResponse:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(exc.status), "detail": exc.detail}
    if exc.extra.get("scim_type"):
        body["scimType"] = exc.extra["scim_type"]
    return _scim(body, exc.status)


@router.post("/Users", status_code=201, operation_id="scim_create_user", summary="SCIM: create a user")
def create_user(body: ScimUserIn, db: DatabaseDep, clock: ClockDep, principal: Provisioner) -> Response:
    try:
        return _scim(_user(employees.create(db, fields=body.fields(), now=clock.now())), 201)
    except DomainError as exc:
        return _error(exc)


@router.get("/Users", operation_id="scim_list_users", summary='SCIM: list users; filter=userName eq "..."')
def list_users(db: DatabaseDep, principal: Provisioner, filter: Annotated[str | None, Query(max_length=300)] = None,
               startIndex: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
               count: Annotated[int, Query(ge=0, le=200)] = 100) -> Response:
    try:
        total, rows = employees.search(db, filter_=filter, start_index=startIndex, count=count)
    except DomainError as exc:
        return _error(exc)
    return _scim({"schemas": [LIST], "totalResults": total, "startIndex": startIndex, "itemsPerPage": len(rows),
                  "Resources": [_user(r) for r in rows]})


@router.get("/Users/{user_id}", operation_id="scim_get_user", summary="SCIM: one user")
def get_user(user_id: Id36, db: DatabaseDep, principal: Provisioner) -> Response:
    try:
        return _scim(_user(employees.get(db, employee_id=user_id)))
    except DomainError as exc:
        return _error(exc)


@router.put("/Users/{user_id}", operation_id="scim_replace_user", summary="SCIM: replace a user")
def replace_user(user_id: Id36, body: ScimUserIn, db: DatabaseDep, clock: ClockDep, principal: Provisioner) -> Response:
    try:
        return _scim(_user(employees.replace(db, employee_id=user_id, fields=body.fields(), now=clock.now())))
    except DomainError as exc:
        return _error(exc)


@router.patch("/Users/{user_id}", operation_id="scim_patch_user",
              summary="SCIM: PATCH active / displayName (replace), e.g. active=false to deactivate")
def patch_user(user_id: Id36, body: ScimPatchIn, db: DatabaseDep, clock: ClockDep, principal: Provisioner) -> Response:
    active: bool | None = None
    display: str | None = None
    for op in body.Operations:
        values = {op.path: op.value} if op.path else (op.value if isinstance(op.value, dict) else {})
        if op.op.lower() not in ("replace", "add") or not set(values) <= {"active", "displayName"}:
            return _scim({"schemas": [ERROR], "status": "400", "scimType": "invalidPath",
                          "detail": "Only replace of active and displayName is supported."}, 400)
        if "active" in values:
            active = values["active"] if isinstance(values["active"], bool) else str(values["active"]).lower() == "true"
        if "displayName" in values:
            display = str(values["displayName"])[:200]
    try:
        return _scim(_user(employees.patch(db, employee_id=user_id, active=active, display_name=display,
                                           now=clock.now())))
    except DomainError as exc:
        return _error(exc)


@router.delete("/Users/{user_id}", status_code=204, operation_id="scim_delete_user",
               summary="SCIM: delete = deactivate (cases keep naming former employees)")
def delete_user(user_id: Id36, db: DatabaseDep, clock: ClockDep, principal: Provisioner) -> Response:
    try:
        employees.patch(db, employee_id=user_id, active=False, display_name=None, now=clock.now())
    except DomainError as exc:
        return _error(exc)
    return Response(status_code=204)
