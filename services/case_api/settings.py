from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.notify_outbox import NotifyConfig
from shared.settings import ServiceSettings

DEFAULT_SLA_HOURS: dict[str, int] = {
    "received": 48,            # triage within two days
    "triaged": 5 * 24,         # investigation started within five days
    "investigating": 30 * 24,  # finding within thirty days
    "finding_recorded": 10 * 24,  # decision / closure within ten days
    "actions": 30 * 24,        # disciplinary and restorative actions within thirty days
}


class CaseSettings(ServiceSettings):
    """Environment variables start with ``CASE_API_``, e.g. ``CASE_API_DATABASE_URL``;
    ``CASE_API_SLA_HOURS='{"received": 24}'`` overrides per-state SLAs."""

    model_config = SettingsConfigDict(env_prefix="CASE_API_", env_nested_delimiter="__", extra="ignore")
    # its relay delivers report events and revocations with a service token: production refuses
    # to start without client credentials
    calls_peers_with_tokens: ClassVar[bool] = True

    service_name: str = "case_api"
    database_url: str = "sqlite:///data/case_api.db"
    public_base_url: str = "http://127.0.0.1:8003"
    sla_hours: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_SLA_HOURS))
    due_soon_hours: int = Field(default=48, ge=1, le=24 * 90)
    ladder_matrix_version: str | None = Field(default=None, description="Matrix file to use; default the latest.")
    suppression_threshold: int = Field(default=5, ge=1, le=100)
    acknowledgement_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    relay_enabled: bool = True
    relay_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    relay_lease_seconds: float = Field(default=60.0, ge=1, le=3600,
                                       description="Outbox claim lease (see FEEDBACK_API_OUTBOX_LEASE_SECONDS).")
    monitoring_cadence_days: int = Field(default=90, ge=7, le=366, description="Default review cycle (quarterly).")
    monitoring_cadence_by_department: dict[str, int] = Field(default_factory=dict)
    monitoring_grace_days: int = Field(default=14, ge=0, le=90,
                                       description="A review is due this many days after its period ends.")
    monitoring_sync_seconds: float = Field(default=6 * 3600, ge=0, le=7 * 86400,
                                           description="Background registry sync interval; 0 disables it.")
    department_directors: dict[str, str] = Field(default_factory=dict, description=(
        "Department -> employee id of its director. A case whose subject is the director is decided by HR "
        "and needs a second approver from outside the department."))
    amendment_reason_min_chars: int = Field(default=20, ge=1, le=2000,
                                            description="Minimum length of the reason for amending a decision.")
    due_process_required: bool = Field(default=False, description=(
        "Refuse a first disciplinary decision without a proposed action noticed to the employee "
        "(off by default until the staff console offers the proposal step)."))
    response_window_days: int = Field(default=10, ge=1, le=90,
                                      description="Days the employee has to respond to a proposed action.")
    response_window_days_by_action: dict[str, int] = Field(
        default_factory=dict, description="Per proposed action, e.g. {\"termination\": 15}.")
    appeal_window_days: int = Field(default=15, ge=1, le=180, description="Days to appeal a final decision.")
    require_known_employees: bool = Field(default=False, description=(
        "A case's employee, an assignee and an involved person must be an active entry of the SCIM "
        "directory (422 otherwise); off until the City's identity system provisions /scim/v2/Users."))
    checkpoint_key_file: str | None = Field(default=None, max_length=1000, description=(
        "Path to the Ed25519 private key (PEM) that signs checkpoints of the audit chain head (issue 15). "
        "Kept outside the database; `civicsocial dev` generates one in its data directory."))
    checkpoint_seconds: float = Field(default=3600, ge=0, le=7 * 86400, description=(
        "How often the chain head is signed and published to the witness (policy_api); 0 disables it."))
    retention_days: dict[str, int] = Field(default_factory=dict, description=(
        "Retention schedule overrides (issue 15), record class -> days, e.g. {\"report_content\": 1095}; "
        "defaults and their sources in docs/records.md."))
    retention_purge_seconds: float = Field(default=86400, ge=0, le=7 * 86400,
                                           description="How often the scheduled purge runs (0 disables it).")
    notify: NotifyConfig = Field(default_factory=NotifyConfig, description=(
        "Staff notifications (issue 17): CASE_API_NOTIFY__SMTP_HOST, __SMTP_PORT, __SMTP_USERNAME, __SMTP_PASSWORD, "
        "__SENDER, __EMAIL_DOMAIN, __CHAT_WEBHOOK_URL...; each channel is off while unset."))
