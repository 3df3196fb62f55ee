"""Background checkpoints of the audit chain head (``domain/checkpoints.py``): every
``CASE_API_CHECKPOINT_SECONDS`` the head is signed with the key in ``CASE_API_CHECKPOINT_KEY_FILE``
and queued for the witness (policy_api). Off when no key file is configured."""

from __future__ import annotations

import structlog

from services.case_api.domain import checkpoints
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.periodic import Periodic
from shared.schemas.checkpoints import ChainCheckpoint
from shared.timeutil import Clock

log = structlog.get_logger("case_api.checkpointer")


class Checkpointer(Periodic):
    def __init__(self, settings: CaseSettings, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock
        self.key = checkpoints.load_key(settings.checkpoint_key_file)
        interval = settings.checkpoint_seconds if self.key is not None else 0  # no key: never started
        super().__init__("audit-checkpoints", interval, self._tick)

    def run_once(self) -> ChainCheckpoint | None:
        if self.key is None:
            return None
        return checkpoints.checkpoint_once(self.db, key=self.key, now=self.clock.now())

    def _tick(self) -> None:
        cp = self.run_once()
        if cp is not None:
            log.info("audit_checkpoint_signed", seq=cp.seq)
