"""HTTP routers, one module per resource. Thin: parse, authorise, call the domain, shape the response."""

from services.feedback_api.routers import (
    after_filing,
    internal,
    open311,
    policy_feedback,
    public,
    receipts,
    staff,
    submissions,
)
from services.feedback_api.widget import router as widget_router
from shared.web.routing import APIRouter

ROUTERS: list[APIRouter] = [
    public.router,
    submissions.router,
    receipts.router,
    after_filing.router,
    internal.router,
    staff.router,
    policy_feedback.router,
    open311.router,
    widget_router,
]
