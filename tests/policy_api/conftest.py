"""Fixtures for policy_api tests: an app on a frozen clock, a client, staff headers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.timeutil import FrozenClock

START = datetime(2025, 3, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def app(make_app, clock):
    return make_app("policy_api", clock=clock, case_api_url="http://127.0.0.1:9")


@pytest.fixture
def api(app, client):
    return client(app)


@pytest.fixture
def staff(token):
    """``staff("policy_editor", subject="emp-1")`` -> headers."""

    def factory(*roles: str, subject: str = "staff-1"):
        return token(*roles, subject=subject)

    return factory
