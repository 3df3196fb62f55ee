from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CaseSettings(ServiceSettings):
    """Environment variables start with ``CASE_API_``, e.g. ``CASE_API_DATABASE_URL``."""

    model_config = SettingsConfigDict(env_prefix="CASE_API_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "case_api"
    database_url: str = "sqlite:///data/case_api.db"
    public_base_url: str = "http://127.0.0.1:8003"
