"""Typed dependencies for case_api routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request

from services.case_api.domain import ladder
from services.case_api.domain.cases import Sla
from services.case_api.domain.monitoring import Cadence
from services.case_api.settings import CaseSettings


def _settings(request: Request) -> CaseSettings:
    settings: CaseSettings = request.app.state.settings
    return settings


def _sla(request: Request) -> Sla:
    return Sla(hours=_settings(request).sla_hours)


def _matrix(request: Request) -> ladder.Matrix:
    return ladder.load(_settings(request).ladder_matrix_version)


SettingsDep = Annotated[CaseSettings, Depends(_settings)]
SlaDep = Annotated[Sla, Depends(_sla)]
MatrixDep = Annotated[ladder.Matrix, Depends(_matrix)]


def _cadence(request: Request) -> Cadence:
    s = _settings(request)
    return Cadence(default_days=s.monitoring_cadence_days, by_department=s.monitoring_cadence_by_department,
                   grace_days=s.monitoring_grace_days)


CadenceDep = Annotated[Cadence, Depends(_cadence)]


def wake_relay(request: Request, background: BackgroundTasks) -> None:
    """After the response (so after the commit), wake the outbox relay instead of waiting for its poll."""
    if request.method == "POST":
        background.add_task(request.app.state.relay.notify)
