"""Drill fixtures: ``procs`` starts services as uvicorn subprocesses on the run's test databases
(``--db``) and stops whatever is left at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shared.auth import ensure_dev_key
from tests.drills.support import ServiceProc, free_port, service_env
from tests.support.databases import TestDatabase


@dataclass
class Procs:
    databases_factory: Callable[[], dict[str, TestDatabase]]
    key_file: Path
    secrets_dir: Path
    ports: dict[str, int] = field(default_factory=dict)
    started: list[ServiceProc] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("policy_api", "feedback_api", "case_api"):
            self.ports[name] = free_port()

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}

    def db_url(self, service: str) -> str:
        # The run's test databases are only set up when a drill needs them (the outage drill
        # brings its own private PostgreSQL).
        return self.databases_factory()[service].url

    def make(self, service: str, *, port: int | None = None, database_url: str | None = None,
             env: dict[str, str] | None = None) -> ServiceProc:
        """A process for ``service`` (not started) wired to the others' reserved ports."""
        e = service_env(service, database_url or self.db_url(service), self.key_file, self.secrets_dir,
                        self.urls, env)
        proc = ServiceProc(service, e, port or self.ports[service])
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for p in reversed(self.started):
            p.stop()


@pytest.fixture
def procs(request: pytest.FixtureRequest, dev_key: Path, tmp_path: Path) -> Iterator[Procs]:
    ensure_dev_key(dev_key)
    p = Procs(lambda: request.getfixturevalue("databases"), dev_key, tmp_path)
    try:
        yield p
    finally:
        p.stop_all()
