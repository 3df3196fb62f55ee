"""HTTP routers, one module per resource. Thin: parse, authorise, call the domain, shape the response."""

from fastapi import APIRouter

from services.feedback_api.widget import router as widget_router

ROUTERS: list[APIRouter] = [widget_router]
