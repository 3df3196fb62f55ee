"""HTTP routers, one module per resource. Thin: parse, authorise, call the domain, shape the response."""

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
