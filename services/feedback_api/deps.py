"""Typed dependencies of feedback_api's routers, and the wrong-receipt guard they share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from services.feedback_api.domain.delivery import FeedbackRelay
from services.feedback_api.domain.follow_up import WrongReceipt
from services.feedback_api.domain.submissions import IntakeContext
from services.feedback_api.settings import FeedbackSettings
from shared.ratelimit import RateLimiter

T = TypeVar("T")


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


def under_receipt_limits(request: Request, limiter: RateLimiter, use_case: Callable[[], T]) -> T:
    """Run a use-case that looks up by receipt under the wrong-receipt limits: 429 once they are
    exhausted (before looking), and every wrong receipt counts against them. The API and the
    no-JS form both go through here."""
    limiter.check("receipt_failures", request)
    try:
        return use_case()
    except WrongReceipt:
        limiter.hit("receipt_failures", request)
        raise
