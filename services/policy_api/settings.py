from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class PolicySettings(ServiceSettings):
    """Environment variables start with ``POLICY_API_``, e.g. ``POLICY_API_DATABASE_URL``."""

    model_config = SettingsConfigDict(env_prefix="POLICY_API_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "policy_api"
    database_url: str = "sqlite:///data/policy_api.db"
    public_base_url: str = "http://127.0.0.1:8001"
