"""Typed dependencies for case_api routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request

from services.case_api.domain import ladder
from services.case_api.domain.cases import DecisionRules, Sla
from services.case_api.domain.due_process import Windows
from services.case_api.domain.monitoring import Cadence
from services.case_api.settings import CaseSettings
from shared.http import ServiceClient


async def _settings(request: Request) -> CaseSettings:
    settings: CaseSettings = request.app.state.settings
    return settings


async def _sla(settings: Annotated[CaseSettings, Depends(_settings)]) -> Sla:
    return Sla(hours=settings.sla_hours)


def _matrix(settings: Annotated[CaseSettings, Depends(_settings)]) -> ladder.Matrix:
    return ladder.load(settings.ladder_matrix_version)  # reads a packaged file: sync, in a thread


async def _peers(request: Request) -> ServiceClient:
    peers: ServiceClient = request.app.state.peers
    return peers


async def _rules(settings: Annotated[CaseSettings, Depends(_settings)]) -> DecisionRules:
    return DecisionRules(directors=settings.department_directors,
                         amendment_reason_min_chars=settings.amendment_reason_min_chars,
                         windows=Windows(response_days=settings.response_window_days,
                                         response_days_by_action=settings.response_window_days_by_action,
                                         appeal_days=settings.appeal_window_days,
                                         required=settings.due_process_required))


SettingsDep = Annotated[CaseSettings, Depends(_settings)]
SlaDep = Annotated[Sla, Depends(_sla)]
MatrixDep = Annotated[ladder.Matrix, Depends(_matrix)]
PeersDep = Annotated[ServiceClient, Depends(_peers)]
RulesDep = Annotated[DecisionRules, Depends(_rules)]


async def _cadence(s: Annotated[CaseSettings, Depends(_settings)]) -> Cadence:
    return Cadence(default_days=s.monitoring_cadence_days, by_department=s.monitoring_cadence_by_department,
                   grace_days=s.monitoring_grace_days)


CadenceDep = Annotated[Cadence, Depends(_cadence)]


async def wake_relay(request: Request, background: BackgroundTasks) -> None:
    """After the response (so after the commit), wake the outbox relay instead of waiting for its poll."""
    if request.method == "POST":
        background.add_task(request.app.state.relay.notify)
