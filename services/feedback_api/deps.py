"""Typed dependencies of feedback_api's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.feedback_api.domain.delivery import FeedbackRelay
from services.feedback_api.domain.submissions import IntakeContext
from services.feedback_api.settings import FeedbackSettings
from shared.ratelimit import RateLimiter


async def _intake(request: Request) -> IntakeContext:
    ctx: IntakeContext = request.app.state.intake
    return ctx


async def _settings(request: Request) -> FeedbackSettings:
    settings: FeedbackSettings = request.app.state.settings
    return settings


async def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.ratelimiter
    return limiter


async def _relay(request: Request) -> FeedbackRelay:
    relay: FeedbackRelay = request.app.state.relay
    return relay


IntakeDep = Annotated[IntakeContext, Depends(_intake)]
SettingsDep = Annotated[FeedbackSettings, Depends(_settings)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]
RelayDep = Annotated[FeedbackRelay, Depends(_relay)]
