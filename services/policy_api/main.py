"""Social Media Policy API: the app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.policy_api.routers import ROUTERS
from services.policy_api.settings import PolicySettings
from shared.api import create_service_app
from shared.timeutil import Clock

SETTINGS_CLASS = PolicySettings
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION = "0.1.0"
DESCRIPTION = (
    "Publishes the City of Albuquerque's social media policies (R-24-89 §1.A and §1.B), their review "
    "schedule and the registry of official accounts. Public reads, staff writes."
)


def create_app(settings: PolicySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or PolicySettings()
    return create_service_app(
        settings=settings,
        title="Social Media Policy API",
        description=DESCRIPTION,
        version=VERSION,
        migrations_dir=MIGRATIONS_DIR,
        routers=ROUTERS,
        clock=clock,
    )
