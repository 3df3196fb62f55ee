from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.feedback_api.frame_ancestors import parse_all
from shared.notify_outbox import NotifyConfig
from shared.schemas.intake import MAX_DESCRIPTION, MAX_LINKS
from shared.settings import ServiceSettings


class FeedbackSettings(ServiceSettings):
    """Environment variables start with ``FEEDBACK_API_``, e.g. ``FEEDBACK_API_DATABASE_URL``.

    Secrets (``contact_encryption_key``, ``rate_limit_key_secret``, ``receipt_pepper``) are required in
    production; in dev each is generated once into ``secrets_dir`` (0600), like the dev signing key.
    """

    model_config = SettingsConfigDict(env_prefix="FEEDBACK_API_", env_nested_delimiter="__", extra="ignore")
    # The relay forwards reports to case_api with a service token: production refuses to start
    # without client credentials (otherwise it would report ready and never deliver).
    calls_peers_with_tokens: ClassVar[bool] = True

    service_name: str = "feedback_api"
    database_url: str = "sqlite:///data/feedback_api.db"
    public_base_url: str = "http://127.0.0.1:8002"
    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8001", "http://localhost:8001"],
        description="Pages allowed to embed the widget iframe (CSP frame-ancestors), as CSP sources: "
        "scheme://host[:port], the host may start with '*.' (subdomains), the port may be '*'. "
        "An invalid entry stops the service at start.",
    )

    # --- secrets ---------------------------------------------------------------------------
    secrets_dir: Path = Field(default=Path("data"), description="dev only: where generated secrets are kept.")
    contact_encryption_key: SecretStr | None = Field(
        default=None, description="Fernet key (urlsafe base64, 32 bytes) encrypting reporter emails at rest."
    )
    rate_limit_key_secret: SecretStr | None = Field(
        default=None, description="HMAC key turning client addresses into rate-limit keys."
    )
    receipt_pepper: SecretStr | None = Field(
        default=None, description="Server-side secret mixed into the receipt hash (the hash's salt is derived from it)."
    )
    open311_api_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Open311 api_key values for submitting systems: 'sha256:<hex>' (preferred) or the raw key. "
        "Only their SHA-256 is kept in memory.",
    )

    # --- network ---------------------------------------------------------------------------
    redis_url: str | None = Field(
        default=None, description="Rate-limit storage shared by all instances; unset = in-process memory."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list, description="Addresses/CIDRs whose X-Forwarded-For is believed (the City's proxies)."
    )

    # --- bounds ----------------------------------------------------------------------------
    max_links: int = Field(default=MAX_LINKS, ge=1, le=MAX_LINKS)
    max_files: int = Field(default=5, ge=0, le=10)
    max_file_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    max_description: int = Field(default=MAX_DESCRIPTION, ge=100, le=MAX_DESCRIPTION)
    max_image_pixels: int = Field(default=25_000_000, ge=100_000, le=200_000_000,
                                  description="Pixels per evidence image, checked from its header before decoding.")
    max_report_pixels: int = Field(default=60_000_000, ge=100_000, le=1_000_000_000,
                                   description="Pixels of all evidence images of one report together.")
    evidence_workers: int = Field(
        default=2, ge=1, le=32, description="Reports whose evidence is processed at the same time (one process each).")
    evidence_timeout_seconds: float = Field(default=10.0, gt=0, le=120,
                                            description="Time cap for one report's evidence processing (then 422).")
    evidence_memory_mib: int = Field(default=768, ge=64, le=16384,
                                     description="Memory cap (address space) of the evidence process, above its start.")

    # --- rate limits (``limits`` notation; ';' separates several) ------------------------
    # Every budget is per client (issue 21 item 1: a shared budget let a few dozen addresses lock
    # every resident out). The *_overall settings remain for a deployment that wants a hard
    # capacity cap anyway; unset, there is none, and none is recommended.
    rate_submit_per_client: str = Field(
        default="5/minute;30/hour", description="Accepted reports and feedback per client (counted once stored).")
    rate_submit_pow_per_client: str = Field(
        default="30/minute;300/hour", description="Accepted submissions per client that came with a solved proof "
        "of work (a City Hall or library address shared by many residents, or abnormal load).")
    rate_submit_slow_per_client: str = Field(
        default="3/minute;30/hour", description="Accepted no-JavaScript submissions per client under abnormal load "
        "or past the plain budget (admitted on a form token at least nojs_min_form_seconds old).")
    rate_submit_rejected_per_client: str = Field(
        default="20/minute;200/hour", description="Honeypot and invalid submissions per client; past it the "
        "honeypot answers 429 instead of a decoy. Never consulted for real submissions.")
    rate_submit_overall: str | None = Field(default=None, description="Optional hard cap across all clients. "
                                            "Unset by default: a few dozen addresses can exhaust any such cap.")
    rate_receipt_per_client: str = "10/minute;60/hour"
    rate_receipt_failures_per_client: str = "5/minute;20/hour"
    rate_receipt_failures_overall: str | None = Field(
        default=None, description="Optional cap on wrong receipts across all clients; unset by default (61 "
        "addresses made even a correct receipt get 429). Guessing stays per client: ~2^53 argon2id hashes.")
    rate_open311_per_client: str = "30/minute"
    rate_open311_overall: str | None = None

    # --- proof of work (abnormal load) -------------------------------------------------------
    pow_trigger_clients_per_minute: int = Field(
        default=60, ge=0, le=1_000_000, description="More distinct clients than this filing within a minute "
        "(in one process) is abnormal load: every submission then needs a proof of work, or, without "
        "JavaScript, the slow allowance.")
    pow_difficulty_bits: int = Field(
        default=16, ge=1, le=28, description="Leading zero bits of SHA-256 (2^bits tries, ~1 s in a browser at 16).")
    pow_challenge_seconds: int = Field(default=900, ge=30, le=86400,
                                       description="How long a challenge or no-JS form token stays valid.")
    nojs_min_form_seconds: int = Field(
        default=5, ge=0, le=300, description="Under abnormal load, a no-JavaScript form is admitted when its token is "
        "at least this old (people take longer than that to fill it in).")

    # --- policy_api proxy and outbox -------------------------------------------------------
    directory_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    directory_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    outbox_enabled: bool = Field(default=True, description="Run the outbox relay in this process.")
    outbox_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    outbox_base_backoff_seconds: float = Field(default=0.5, gt=0, le=60)
    outbox_max_backoff_seconds: float = Field(
        default=30.0, gt=0, le=30, description="Longest wait between two attempts at one message (issue 13: capped)."
    )
    outbox_lease_seconds: float = Field(
        default=60.0, ge=1, le=3600,
        description="How long a claimed outbox message stays claimed. After a crash its messages are "
        "resent once the lease runs out; too short, and a slow delivery is sent twice (case_api dedupes).",
    )
    forward_batch_window_seconds: int | None = Field(
        default=None, ge=0, le=86_400,
        description="What reporters send reaches case_api in batches, at a random moment of the window after the "
        "one it was written in, in random order (domain/batching.py), so arrival cannot be matched against network "
        "logs. Default: 3600 in production, 0 (at once) in dev and tests.")
    notify: NotifyConfig = Field(default_factory=NotifyConfig, description=(
        "Reporter update emails (issue 17), only to reporters who opted in: FEEDBACK_API_NOTIFY__SMTP_HOST, "
        "__SMTP_PORT, __SMTP_USERNAME, __SMTP_PASSWORD, __SENDER; off while unset."))

    # --- retention (issue 15; docs/records.md) -----------------------------------------------
    retention_content_days: int = Field(default=30, ge=0, le=3650, description=(
        "Days after a report is closed, and case_api has acknowledged it, before its description, links and "
        "messages are deleted here (case_api keeps the case file)."))
    retention_contact_days: int = Field(default=30, ge=0, le=3650,
                                        description="Days after a report is closed before its contact is deleted.")
    retention_evidence_days: int = Field(default=6 * 365, ge=0, le=36500, description=(
        "Days after a report is closed before its evidence files are deleted (case_api keeps their hashes)."))
    retention_purge_seconds: float = Field(default=86400, ge=0, le=7 * 86400,
                                           description="How often the purge runs (0 disables it).")

    # --- receipts --------------------------------------------------------------------------
    receipt_hash_memory_kib: int = Field(default=19_456, ge=8, le=1_048_576, description="argon2id m (KiB)")
    receipt_hash_time_cost: int = Field(default=2, ge=1, le=10, description="argon2id t")
    receipt_pool_size: int = Field(
        default=1000, ge=0, le=10_000,
        description="Receipts generated and hashed ahead of time, in memory only, so a burst of reports does "
        "not wait on argon2id; refilled while the process is idle. Sized for the burst the City plans for "
        "(600 reports in 30 s) with room to spare. 0 disables the pool (every receipt is hashed when it is "
        "issued).",
    )

    @field_validator("frame_ancestors")
    @classmethod
    def _frame_ancestors_are_csp_sources(cls, value: list[str]) -> list[str]:
        parse_all(value)  # raises, naming every entry that is not scheme://host[:port]
        return [entry.strip().rstrip("/") for entry in value]

    @model_validator(mode="after")
    def _batch_window_by_mode(self) -> FeedbackSettings:
        if self.forward_batch_window_seconds is None:
            self.forward_batch_window_seconds = 3600 if self.mode == "production" else 0
        return self

    @model_validator(mode="after")
    def _production_secrets(self) -> FeedbackSettings:
        if self.mode == "production":
            missing = [
                name for name in ("contact_encryption_key", "rate_limit_key_secret", "receipt_pepper")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError("production mode needs " + ", ".join(f"FEEDBACK_API_{n.upper()}" for n in missing))
        return self

    @property
    def upload_body_limit(self) -> int:
        """The body limit of ``POST /v1/reports``: every file at its maximum plus 256 KiB for the fields."""
        return self.max_files * self.max_file_bytes + 256 * 1024
