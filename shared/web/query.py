"""Refuse query parameters an endpoint does not declare.

FastAPI ignores a query parameter it does not know, so ``GET /v1/cases?stat=closed`` (a typo)
silently answers the unfiltered list: a staff member exporting "closed cases" would get every case.
``StrictQuery`` (``dependencies=[StrictQuery]`` on a router or a route) answers such a request 422
problem+json naming each unknown parameter (its value is not echoed). The declared names come from
the matched route itself (its dependant tree: the endpoint's and its dependencies' query
parameters, by alias), computed once per route, so the list can never drift from the signature.
FastAPI has no setting for this (``extra="forbid"`` on a Pydantic query model covers one model, not
a signature of plain parameters), hence this small dependency.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from shared.errors import ValidationFailed, field_error

_DECLARED: dict[int, frozenset[str]] = {}
MAX_REPORTED = 20


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias or p.name for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def declared_query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters the route and its dependencies declare (by alias). A Pydantic model
    used as a query-parameter group is not expanded: give such a model ``extra="forbid"`` instead."""
    key = id(route)
    names = _DECLARED.get(key)
    if names is None:
        names = frozenset(_query_names(route.dependant))
        _DECLARED[key] = names
    return names


async def reject_unknown_query(request: Request) -> None:
    """422 when the request carries a query parameter its route does not declare."""
    route: Any = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = declared_query_names(route)
    unknown = sorted({k for k in request.query_params if k not in known})
    if unknown:
        shown = unknown[:MAX_REPORTED]
        raise ValidationFailed(
            f"Unknown query parameter(s): {', '.join(n[:40] for n in shown)}.",
            errors=[field_error(["query", n[:40]], "unknown parameter", "extra_forbidden") for n in shown])


StrictQuery = Depends(reject_unknown_query)
