"""case_api tests empty only the databases they use (case_api's, and policy_api's for the live
registry tests): another service's tables may be mid-change in the shared working tree."""

from __future__ import annotations

import pytest


@pytest.fixture
def databases(_databases):
    for name in ("case_api", "policy_api"):
        _databases[name].reset()
    return _databases
