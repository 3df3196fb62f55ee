"""policy_api contracts read by feedback_api (account picker, validation) and case_api
(monitoring schedule, privilege revocation, acknowledgement checks)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field, HttpUrl

from shared.schemas.base import InputModel, OutputModel


class Platform(StrEnum):
    facebook = "facebook"
    instagram = "instagram"
    x = "x"
    threads = "threads"
    bluesky = "bluesky"
    tiktok = "tiktok"
    youtube = "youtube"
    linkedin = "linkedin"
    nextdoor = "nextdoor"
    other = "other"


class AccountStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    retired = "retired"


class AccountPublic(OutputModel):
    """An official account as the public sees it: no staff identities beyond the PIO's name and title."""

    id: str
    platform: Platform
    handle: str
    profile_url: HttpUrl | str
    department: str
    purpose: str
    status: AccountStatus
    pio_name: str | None = None
    pio_title: str | None = None


class PrivilegeChange(InputModel):
    """Granting or revoking an employee's posting privileges on an account: who, why, which case."""

    employee_id: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=2000)
    case_reference: str | None = Field(default=None, max_length=64)


class PrivilegeRevocation(PrivilegeChange):
    """case_api -> policy_api: a restorative action revokes an employee's posting privileges."""


class PrivilegeChangeResult(OutputModel):
    account_id: str
    employee_id: str
    active: bool
    changed: bool = Field(description="False when the privilege was already in the requested state.")
    recorded_at: datetime


class AcknowledgementCheck(OutputModel):
    """Answer to "had this person acknowledged the version in force on date D?"."""

    employee_id: str
    on: date
    policy_id: str | None
    version_id: str | None
    version_label: str | None
    acknowledged: bool
    acknowledged_at: datetime | None = None
