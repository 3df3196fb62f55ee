"""A started service moves its startup objects out of the cyclic collector's reach
(shared.web.app.freeze_startup_objects), unless told not to."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process builds many apps: give back what this test froze


@pytest.mark.parametrize("freeze", [True, False])
async def test_startup_objects_are_frozen_once_the_service_has_started(make_app, unfrozen, freeze):
    app = make_app("policy_api", gc_freeze_after_start=freeze)
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        frozen = gc.get_freeze_count()
        if freeze:
            assert frozen > 10_000  # the process's modules, schemas and routes
            before = len(gc.get_objects())
            assert before < frozen  # what a full collection still walks
        else:
            assert frozen == 0
