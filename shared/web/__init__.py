"""The web kernel: app factory, problem+json, dependencies, health routes.

Routers import from here: ``from shared.web import DatabaseDep, ClockDep, require_roles,
problem_responses``.
"""

from shared.web.app import create_service_app, publish_schema
from shared.web.deps import (
    ClockDep,
    DatabaseDep,
    OptionalPrincipalDep,
    PrincipalDep,
    current_principal,
    optional_principal,
    require_roles,
)
from shared.web.problems import PROBLEM_MEDIA_TYPE, problem_response, problem_responses

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ClockDep",
    "DatabaseDep",
    "OptionalPrincipalDep",
    "PrincipalDep",
    "create_service_app",
    "current_principal",
    "optional_principal",
    "problem_response",
    "problem_responses",
    "publish_schema",
    "require_roles",
]
