"""openapi/*.json must be what the apps generate now (run `civicsocial openapi` to refresh)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli import render_openapi
from services.registry import SERVICES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", list(SERVICES))
def test_exported_spec_is_current(name):
    path = ROOT / "openapi" / f"{name}.json"
    assert path.exists(), f"{path} missing: run `civicsocial openapi`"
    assert path.read_text() == render_openapi(SERVICES[name]), f"{path} is stale: run `civicsocial openapi`"


@pytest.mark.parametrize("name", list(SERVICES))
def test_operation_ids_are_unique_and_set(name):
    import json

    doc = json.loads((ROOT / "openapi" / f"{name}.json").read_text())
    ids = [op.get("operationId") for path in doc["paths"].values() for op in path.values()]
    assert all(ids) and len(ids) == len(set(ids))
