"""HTTP routers, one module per resource. Thin: parse, authorise, call the domain, shape the response."""

from services.policy_api.routers import (
    accounts,
    acknowledgements,
    changes,
    checkpoints,
    council_reports,
    elements,
    feed,
    feedback_links,
    policies,
    retirements,
    translations,
    transparency,
)
from shared.web.routing import APIRouter

ROUTERS: list[APIRouter] = [
    elements.router,
    accounts.router,
    policies.router,
    policies.staff_router,
    retirements.router,
    translations.router,
    acknowledgements.router,
    feedback_links.router,
    feed.router,
    changes.router,
    council_reports.router,
    transparency.router,
    checkpoints.router,
]
