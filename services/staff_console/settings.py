"""Settings of the staff console: environment variables start with ``STAFF_CONSOLE_``.

The console has no database. It signs users in (dev: a picker that signs dev tokens; production:
OIDC Authorization Code with PKCE against the City IdP named by ``AUTH__DISCOVERY_URL``, the
console's client being ``AUTH__CLIENT_ID`` / ``AUTH__CLIENT_SECRET``), keeps their tokens in a
server-side session (Redis at ``REDIS_URL``; in dev an in-process store when it is unset) and calls
the three APIs with the user's own bearer token."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DEV_DEPARTMENTS = [
    "Police", "Fire", "Transit", "Libraries", "Parks and Recreation", "Animal Welfare", "Solid Waste",
    "Senior Affairs", "Arts & Culture", "Mayor's Office",
]


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="STAFF_CONSOLE_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "staff_console"
    public_base_url: str = "http://127.0.0.1:8004"
    redis_url: str | None = Field(default=None, description="Session store; required in production.")
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: float = Field(default=10, gt=0, le=24)
    oidc_scope: str = Field(default="openid profile offline_access",
                            description="Scopes asked for at login (offline_access: a refresh token).")
    dev_departments: list[str] = Field(default_factory=lambda: list(DEV_DEPARTMENTS))

    @model_validator(mode="after")
    def _console_production(self) -> ConsoleSettings:
        if self.mode == "production":
            missing = [name for name, value in (
                ("STAFF_CONSOLE_REDIS_URL", self.redis_url),
                ("STAFF_CONSOLE_AUTH__DISCOVERY_URL", self.auth.discovery_url),
                ("STAFF_CONSOLE_AUTH__CLIENT_ID", self.auth.client_id),
                ("STAFF_CONSOLE_AUTH__CLIENT_SECRET", self.auth.client_secret),
            ) if not value]
            if missing:
                raise ValueError("production mode: the staff console needs " + ", ".join(missing))
        return self

    @property
    def docs_on(self) -> bool:
        """/docs in dev, or in production when SERVE_DOCS (the kernel's setting) asks for it."""
        return self.mode == "dev" or self.serve_docs

    @property
    def https(self) -> bool:
        return self.public_base_url.startswith("https://")

    @property
    def cookie_name(self) -> str:
        # __Host- needs Secure, which browsers refuse to set over plain http (dev on loopback)
        return "__Host-console" if self.https else "console"
