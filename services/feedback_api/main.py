"""Public Feedback and Violation Reports API: the app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.feedback_api.routers import ROUTERS
from services.feedback_api.settings import FeedbackSettings
from shared.api import create_service_app
from shared.timeutil import Clock

SETTINGS_CLASS = FeedbackSettings
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION = "0.1.0"
DESCRIPTION = (
    "Anonymous public intake of feedback on the City's social media policies and reports of potential "
    "violations (R-24-89 §1.B). Reports are forwarded to case management without loss."
)


def create_app(settings: FeedbackSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or FeedbackSettings()
    return create_service_app(
        settings=settings,
        title="Public Feedback and Violation Reports API",
        description=DESCRIPTION,
        version=VERSION,
        migrations_dir=MIGRATIONS_DIR,
        routers=ROUTERS,
        clock=clock,
    )
