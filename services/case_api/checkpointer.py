"""Background checkpoints of the audit chain head (``domain/checkpoints.py``): every
``CASE_API_CHECKPOINT_SECONDS`` the head is signed with the key in ``CASE_API_CHECKPOINT_KEY_FILE``
and queued for the witness (policy_api). Off when no key file is configured."""

from __future__ import annotations

import threading

import structlog

from services.case_api.domain import checkpoints
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.schemas.checkpoints import ChainCheckpoint
from shared.timeutil import Clock

log = structlog.get_logger("case_api.checkpointer")


class Checkpointer:
    def __init__(self, settings: CaseSettings, db: Database, clock: Clock) -> None:
        self.settings, self.db, self.clock = settings, db, clock
        self.key = checkpoints.load_key(settings.checkpoint_key_file)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> ChainCheckpoint | None:
        if self.key is None:
            return None
        return checkpoints.checkpoint_once(self.db, key=self.key, now=self.clock.now())

    def start(self) -> None:
        if self.key is None or self.settings.checkpoint_seconds <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="audit-checkpoints", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.checkpoint_seconds):
            try:
                cp = self.run_once()
                if cp is not None:
                    log.info("audit_checkpoint_signed", seq=cp.seq)
            except Exception as exc:  # noqa: BLE001 - retried at the next interval
                log.warning("audit_checkpoint_failed", error=type(exc).__name__)
