"""HTTP routers, one module per resource. Thin: parse, authorise, call the domain, shape the response."""

from fastapi import APIRouter

from services.policy_api.routers import accounts, acknowledgements, changes, elements

ROUTERS: list[APIRouter] = [elements.router, accounts.router, acknowledgements.router, changes.router]
