from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class FeedbackSettings(ServiceSettings):
    """Environment variables start with ``FEEDBACK_API_``, e.g. ``FEEDBACK_API_DATABASE_URL``."""

    model_config = SettingsConfigDict(env_prefix="FEEDBACK_API_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "feedback_api"
    database_url: str = "sqlite:///data/feedback_api.db"
    public_base_url: str = "http://127.0.0.1:8002"
    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8001", "http://localhost:8001"],
        description="Origins allowed to embed the widget iframe (CSP frame-ancestors); the City's sites.",
    )
