"""Where each service lives: its package, default port and env prefix.

Used by the CLI (``dev``, ``migrate``, ``openapi``) and the test harness, never by the
services themselves (a service knows only its own settings)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import FastAPI


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    env_prefix: str

    @property
    def package(self) -> str:
        return f"services.{self.name}"

    def module(self, sub: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{sub}")

    @property
    def migrations_dir(self) -> Path:
        return Path(self.module("main").__file__ or "").parent / "migrations"

    def settings(self, **overrides: Any) -> Any:
        return self.module("main").SETTINGS_CLASS(**overrides)

    def create_app(self, settings: Any = None, **kw: Any) -> FastAPI:
        app: FastAPI = self.module("main").create_app(settings, **kw)
        return app

    def metadata(self) -> Any:
        return self.module("domain.models").Base.metadata


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("policy_api", 8001, "POLICY_API_"),
        ServiceSpec("feedback_api", 8002, "FEEDBACK_API_"),
        ServiceSpec("case_api", 8003, "CASE_API_"),
    )
}
