from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.notify_outbox import NotifyConfig
from shared.settings import ServiceSettings


class PolicySettings(ServiceSettings):
    """Environment variables start with ``POLICY_API_``, e.g. ``POLICY_API_DATABASE_URL``."""

    model_config = SettingsConfigDict(env_prefix="POLICY_API_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "policy_api"
    database_url: str = "sqlite:///data/policy_api.db"
    public_base_url: str = "http://127.0.0.1:8001"
    review_interval_months: int = Field(
        default=12, ge=1, le=60, description="Review interval given to new policies (R-24-89 §1.A.8)."
    )
    review_due_soon_days: int = Field(
        default=60, ge=0, le=365, description="The Transparency page marks reviews due within this many days."
    )
    transparency_title: str = Field(
        default="Social Media Policies and Official Accounts",
        description="Heading of the Transparency page (English; Spanish comes from the catalogue).",
    )
    feedback_public_url: str | None = Field(
        default=None,
        description="Where residents reach feedback_api (widget loader, /report). Default: feedback_api_url.",
    )
    metrics_timeout_seconds: float = Field(
        default=1.5, gt=0, le=10, description="Timeout for case_api's public metrics on the Transparency page."
    )
    metrics_cache_seconds: int = Field(default=60, ge=0, le=3600)
    notify: NotifyConfig = Field(default_factory=NotifyConfig, description=(
        "Acknowledgement and review notifications (issue 17): POLICY_API_NOTIFY__SMTP_HOST, __EMAIL_DOMAIN, "
        "__CHAT_WEBHOOK_URL...; each channel is off while unset."))
    notify_review_to: list[str] = Field(default_factory=list, max_length=50, description=(
        "Who hears that a policy's review is due: employee ids or addresses of the records team."))
    notify_review_notice_days: int = Field(default=30, ge=0, le=365,
                                           description="A review is announced this many days before it is due.")
    checkpoint_public_key: str | None = Field(default=None, max_length=4000, description=(
        "case_api's audit-chain checkpoint public key (Ed25519, PEM text or a path to a PEM file): the "
        "witness stores only checkpoints whose signature verifies against it (issue 15)."))

    @property
    def feedback_origin_url(self) -> str:
        return (self.feedback_public_url or self.feedback_api_url).rstrip("/")
