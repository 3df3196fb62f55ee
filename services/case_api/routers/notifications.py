"""A staff member's own notification preferences (issue 17): per event type, immediate, daily
digest or off. Nobody reads or sets another person's; the roles and department the roster uses
are taken from the caller's token when they save."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends
from pydantic import Field

from services.case_api.domain import access, notifications
from shared.auth import Principal, Role
from shared.notify import EventType
from shared.schemas.base import InputModel, OutputModel
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["notifications"])
Staff = Annotated[Principal, Depends(require_roles(*access.STAFF, Role.monitor))]
ModeName = Literal["immediate", "digest", "off"]


class PreferencesIn(InputModel):
    modes: dict[EventType, ModeName] = Field(max_length=len(notifications.STAFF_EVENTS), description=(
        "Per event type: immediate, digest (one email a day) or off. Event types not named keep their mode."))


class PreferencesOut(OutputModel):
    person: str
    modes: dict[str, str]
    roles: list[str] = Field(description="As your sign-in token asserted them when you last saved.")
    department: str | None
    updated_at: datetime | None


def _out(p: notifications.Preferences) -> PreferencesOut:
    return PreferencesOut(person=p.person, modes=p.modes, roles=p.roles, department=p.department,
                          updated_at=p.updated_at)


@router.get("/v1/notifications/preferences", response_model=PreferencesOut,
            operation_id="get_my_notification_preferences",
            summary="My notification preferences", responses=problem_responses(401, 403))
def get_preferences(db: DatabaseDep, principal: Staff) -> PreferencesOut:
    return _out(notifications.get_preferences(db, principal=principal))


@router.put("/v1/notifications/preferences", response_model=PreferencesOut,
            operation_id="set_my_notification_preferences",
            summary="Set my notification preferences (and record my roles for role-based events)",
            responses=problem_responses(401, 403, 422))
def set_preferences(body: PreferencesIn, db: DatabaseDep, clock: ClockDep, principal: Staff) -> PreferencesOut:
    modes = {k.value: v for k, v in body.modes.items()}
    return _out(notifications.set_preferences(db, principal=principal, modes=modes, now=clock.now()))
