"""The R-24-89 element catalogue."""

from __future__ import annotations

from fastapi import Depends, Path, Request, Response

from services.policy_api.domain import elements
from services.policy_api.routers._common import CatalogueReady, write_ctx
from services.policy_api.schemas import ElementOut, ElementUpsert
from shared.auth import Principal, Role
from shared.caching import cached_json
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["elements"], dependencies=[CatalogueReady])


@router.get("/v1/elements", operation_id="list_elements", response_model=list[ElementOut],
            summary="The R-24-89 §1.A elements a social media policy must cover (public)")
def list_elements(request: Request, db: DatabaseDep) -> Response:
    items = [ElementOut.model_validate(e) for e in elements.list_elements(db)]
    return cached_json(request, [i.model_dump(mode="json") for i in items], max_age=3600)


@router.put("/v1/elements/{key}", operation_id="put_element", response_model=ElementOut,
            responses=problem_responses(401, 403), summary="Add or change a catalogue element (admin)")
def put_element(request: Request, body: ElementUpsert, db: DatabaseDep, clock: ClockDep,
                key: str = Path(pattern=r"^[a-z][a-z0-9_]{1,63}$"),
                principal: Principal = Depends(require_roles(Role.admin))) -> ElementOut:
    fields = elements.ElementFields(title=body.title, description=body.description, ordinal=body.ordinal,
                                    required=body.required)
    row = elements.upsert_element(db, write_ctx(request, principal, clock), key=key, fields=fields)
    return ElementOut.model_validate(row)
