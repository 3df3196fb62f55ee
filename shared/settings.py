"""Settings shared by the three services. Each service subclasses ``ServiceSettings``
with its own env prefix (``POLICY_API_``, ``FEEDBACK_API_``, ``CASE_API_``); nested
auth settings use ``__``, e.g. ``CASE_API_AUTH__JWKS_URL``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL

Mode = Literal["dev", "production"]
JwtAlgorithm = Literal["RS256", "ES256"]
PINNED_ALGORITHMS: tuple[JwtAlgorithm, ...] = ("RS256", "ES256")


ClientAuthMethod = Literal["client_secret_basic", "client_secret_post"]


class AuthSettings(BaseModel):
    issuer: str = "civicsocial-dev"
    audience: str = "civicsocial"
    algorithms: list[JwtAlgorithm] = Field(default_factory=lambda: list(PINNED_ALGORITHMS))
    discovery_url: str | None = Field(
        default=None, description="OIDC discovery document (…/.well-known/openid-configuration): gives jwks_uri "
        "and token_endpoint when jwks_url / token_url are not set.")
    jwks_url: str | None = Field(default=None, description="The City IdP's JWKS endpoint (production).")
    jwks_file: Path | None = Field(default=None, description="A JWKS file, instead of a URL.")
    jwks_cache_seconds: int = Field(default=600, ge=10, le=86400,
                                    description="Keys older than this are refreshed in the background.")
    jwks_min_refresh_seconds: int = Field(default=60, ge=1, le=3600,
                                          description="At most one fetch per this interval for unknown kids.")
    max_token_lifetime_seconds: int = Field(default=12 * 3600, ge=60, le=7 * 86400,
                                            description="Tokens whose exp - iat is longer are refused.")
    require_access_token_typ: bool = Field(
        default=False, description="Refuse tokens whose header typ is not at+jwt (RFC 9068), for IdPs that set it.")
    token_use_claim: str | None = Field(
        default=None, description="A claim that must equal token_use_value (e.g. Cognito's token_use), "
        "to refuse ID tokens presented as access tokens where the IdP does not set typ.")
    token_use_value: str = "access"  # noqa: S105 - a claim value, not a secret
    roles_claim: str = "roles"
    department_claim: str = "department"
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    max_token_bytes: int = Field(default=8192, ge=512, le=65536)
    # dev mode only: a local RSA key signs staff and service tokens.
    dev_key_file: Path = Path("data/dev-signing-key.pem")
    # production service-to-service tokens: OAuth2 client credentials against the IdP (docs/identity.md).
    token_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    client_auth_method: ClientAuthMethod = "client_secret_basic"
    token_scope: str | None = Field(
        default=None, description="scope to ask for; default: the service's role names (space separated)")
    token_audience: str | None = Field(default=None, description="audience parameter (Auth0, some Keycloak setups)")
    token_resource: str | None = Field(
        default=None, description="resource parameter (RFC 8707; Entra ID v1, oidc-provider)")

    @property
    def can_get_service_tokens(self) -> bool:
        return bool((self.token_url or self.discovery_url) and self.client_id and self.client_secret)


class DatabaseSettings(BaseSettings):
    """Where a service's database is: a URL, or its parts (so any password works: ``@``, ``/`` or
    ``%`` in a password would break a hand-written URL). ``civicsocial migrate`` reads only these,
    with the owner role's credentials when they are given (``DB_OWNER_USER``/``DB_OWNER_PASSWORD``
    or ``MIGRATION_DATABASE_URL``); the service runs as ``DB_USER``, a role without DDL."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    database_url: str = "sqlite:///data/service.db"
    db_host: str | None = Field(default=None, description="PostgreSQL host; when set, the URL is built from parts")
    db_port: int = Field(default=5432, ge=1, le=65535)
    db_name: str | None = None
    db_user: str | None = None
    db_password: SecretStr | None = None
    db_owner_user: str | None = Field(default=None, description="the role that owns the schema (migrations only)")
    db_owner_password: SecretStr | None = None
    migration_database_url: str | None = Field(default=None, description="owner-role URL for migrations")

    @model_validator(mode="after")
    def _url_from_parts(self) -> DatabaseSettings:
        if self.db_host:
            self.database_url = self._url(self.db_user, self.db_password)
            if self.db_owner_user and not self.migration_database_url:
                self.migration_database_url = self._url(self.db_owner_user, self.db_owner_password)
        return self

    def _url(self, user: str | None, password: SecretStr | None) -> str:
        if not (self.db_name and user):
            raise ValueError("db_host needs db_name and a user")
        return URL.create("postgresql+psycopg", username=user,
                          password=password.get_secret_value() if password else None,
                          host=self.db_host, port=self.db_port, database=self.db_name
                          ).render_as_string(hide_password=False)

    @property
    def migration_url(self) -> str:
        return self.migration_database_url or self.database_url


class ServiceSettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")
    # A service whose relay or clients call peers with a service token sets this: production then
    # refuses to start without client credentials, instead of reporting ready and never delivering.
    calls_peers_with_tokens: ClassVar[bool] = False

    service_name: str = "service"
    mode: Mode = "dev"
    auto_migrate: bool | None = Field(
        default=None, description="Apply migrations at start. Defaults to true in dev, false in production."
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"
    db_pool_size: int = Field(
        default=20, ge=1, le=100,
        description="Database connections per process (no overflow). Each of the three services on "
        "PostgreSQL keeps up to this many, plus its relay's.",
    )
    log_level: str = "INFO"
    log_json: bool = True
    gc_freeze_after_start: bool = Field(
        default=True, description="Move what exists once the service has started (modules, schemas, "
        "routes: ~180k objects) out of the cyclic garbage collector's reach, so a full collection "
        "scans only what requests create (docs/architecture.md, ADR 1).")
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_header_bytes: int = Field(default=16_384, ge=1024, le=1_048_576,
                                  description="Total size of a request's headers (431 above it).")
    max_header_count: int = Field(default=100, ge=10, le=1000, description="Headers per request (431 above it).")
    serve_docs: bool = Field(default=False, description="Serve /docs and /openapi.json in production "
                             "(always on in dev; never for case_api in production).")
    metrics_public: bool = Field(default=False, description="Serve /metrics to anyone in production.")
    metrics_token: SecretStr | None = Field(default=None, description="Bearer token a scraper presents for /metrics.")
    cors_origins: list[str] = Field(default_factory=list)
    public_base_url: str = "http://127.0.0.1:8000"
    auth: AuthSettings = Field(default_factory=AuthSettings)
    policy_api_url: str = "http://127.0.0.1:8001"
    feedback_api_url: str = "http://127.0.0.1:8002"
    case_api_url: str = "http://127.0.0.1:8003"
    http_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    http_retries: int = Field(default=2, ge=0, le=10)

    @model_validator(mode="after")
    def _no_unknown_variables(self) -> ServiceSettings:
        """A misspelt variable (``FEEDBACK_API_RECIEPT_PEPPER``) would otherwise be ignored and
        the default used: refuse to start, naming it."""
        prefix = str(self.model_config.get("env_prefix") or "").upper()
        if prefix:
            unknown = sorted(name for name in os.environ
                             if name.upper().startswith(prefix) and not self._knows(name[len(prefix):]))
            if unknown:
                raise ValueError(f"unknown setting(s) {', '.join(unknown)}: check the spelling "
                                 "(the settings are listed in README.md and docs/)")
        return self

    @classmethod
    def _knows(cls, rest: str) -> bool:
        head, _, nested = rest.lower().partition("__")
        field = cls.model_fields.get(head)
        if field is None:
            return False
        if not nested:
            return True
        sub = field.annotation
        return isinstance(sub, type) and issubclass(sub, BaseModel) and nested.split("__")[0] in sub.model_fields

    @model_validator(mode="after")
    def _production_is_explicit(self) -> ServiceSettings:
        if self.mode == "production" and not (self.auth.jwks_url or self.auth.jwks_file or self.auth.discovery_url):
            raise ValueError("production mode needs auth.discovery_url, auth.jwks_url or auth.jwks_file "
                             "(the City IdP's keys)")
        if self.mode == "production" and self.calls_peers_with_tokens and not self.auth.can_get_service_tokens:
            raise ValueError(f"production mode: {self.service_name} calls its peers with a service token and needs "
                             "auth.token_url (or auth.discovery_url), auth.client_id and auth.client_secret")
        return self

    @property
    def migrate_on_start(self) -> bool:
        return self.auto_migrate if self.auto_migrate is not None else self.mode == "dev"
