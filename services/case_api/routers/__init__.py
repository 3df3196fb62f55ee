"""HTTP routers, one module per resource. Thin: parse, authorise, call the domain, shape the response."""

from services.case_api.routers import (
    cases,
    intake,
    monitoring,
    notices,
    ops,
    oversight,
    public,
    records,
    reporter_intake,
    restorative,
    scim,
    search,
)
from shared.web.routing import APIRouter

# search before cases: GET /v1/cases/export must not be read as GET /v1/cases/{case_id}
ROUTERS: list[APIRouter] = [intake.router, public.router, search.router, cases.router, restorative.router,
                           oversight.router,
                           monitoring.router, notices.router, scim.router, ops.router, reporter_intake.router,
                           records.router]
