"""Evidence is decoded in a separate process with a time and a memory cap (issue 21 item 2).

Why a process per report, started from a ``forkserver`` (and not a thread, nor a pooled
``ProcessPoolExecutor``):

- A memory cap needs a process: ``resource.setrlimit(RLIMIT_AS)`` limits a whole process, and a
  thread shares the service's address space (a 1.9 GB decode would take the service with it).
- A time cap needs a process we may kill: a thread stuck in C code (Pillow, qpdf) cannot be
  stopped, and ``ProcessPoolExecutor`` cannot cancel a task that is running; killing its worker
  breaks the whole pool. Here the parent waits ``timeout`` seconds and then kills that one child.
- A fresh process per report keeps nothing between reporters (no decoded pixels of someone else
  left in a long-lived worker), and a crash (a parser bug) costs only that report: 422.
- The forkserver preloads Pillow and pikepdf once, so a child starts in milliseconds, and no
  child is forked from the multi-threaded service process itself.

Concurrency is bounded by ``workers`` (a semaphore): a report waits for a slot up to ``timeout``
seconds, then gets 503 with ``Retry-After``. The request thread waits, not the event loop: intake
endpoints are sync ``def`` and run in the threadpool. The header checks (types, per-image and
per-report pixel budgets) run in the parent first, so a decompression bomb is refused in
milliseconds without starting a child, and again in the child before it decodes anything.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from services.feedback_api.domain.evidence import CleanFile, EvidenceLimits, check_budget, sanitise_all
from shared.errors import DomainError, PayloadTooLarge, Unavailable, UnsupportedMediaType, ValidationFailed

_ERRORS: dict[str, type[DomainError]] = {
    "PayloadTooLarge": PayloadTooLarge, "UnsupportedMediaType": UnsupportedMediaType,
    "ValidationFailed": ValidationFailed,
}


def _limit_memory(extra_bytes: int) -> None:
    try:
        import resource

        with open("/proc/self/statm") as statm:  # Linux: virtual size now, in pages
            base = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (base + extra_bytes, base + extra_bytes))
    except (OSError, ValueError, ImportError):  # pragma: no cover - not Linux: the time cap still holds
        pass


def _work(conn: Connection, files: list[bytes], limits: EvidenceLimits, memory_bytes: int) -> None:
    from PIL import Image

    _limit_memory(memory_bytes)
    Image.MAX_IMAGE_PIXELS = limits.max_pixels  # Pillow's guard at our budget, in this child only
    try:
        clean = sanitise_all(files, limits)
        conn.send(("ok", [(c.media_type, c.content) for c in clean]))
    except DomainError as exc:
        conn.send(("error", type(exc).__name__, exc.detail, exc.errors))
    except MemoryError:
        conn.send(("error", "ValidationFailed", "An evidence file needs more memory to process than allowed. "
                   "Please send a screenshot or a smaller copy.", None))
    finally:
        conn.close()


_CONTEXT: Any = None
_CONTEXT_LOCK = threading.Lock()


def _context() -> Any:
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["services.feedback_api.domain.evidence"])
            _CONTEXT = ctx
        return _CONTEXT


class EvidenceProcessor:
    def __init__(self, limits: EvidenceLimits, *, workers: int = 2, timeout_seconds: float = 10.0,
                 memory_bytes: int = 768 * 1024 * 1024) -> None:
        self.limits = limits
        self.timeout = timeout_seconds
        self.memory_bytes = memory_bytes
        self._slots = threading.BoundedSemaphore(max(1, workers))

    def warm(self) -> None:
        """Start the forkserver (it imports Pillow and pikepdf once) so the first report does not wait."""
        threading.Thread(target=lambda: self._run([]), name="evidence-warm", daemon=True).start()

    def clean(self, files: Sequence[bytes]) -> list[CleanFile]:
        """Check and clean a report's files in a child process. Raises the same problems as
        ``evidence.sanitise_all``, 422 when the child runs out of time or memory or dies, and 503
        when every slot stays busy for ``timeout`` seconds."""
        if not files:
            return []
        check_budget(files, self.limits)  # headers only, in milliseconds: bombs never reach a child
        if not self._slots.acquire(timeout=self.timeout):
            raise Unavailable("Evidence processing is busy. Please try again in a moment.",
                              headers={"Retry-After": "5"})
        try:
            return self._run(list(files))
        finally:
            self._slots.release()

    def _run(self, files: list[bytes]) -> list[CleanFile]:
        ctx = _context()
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_work, args=(send, files, self.limits, self.memory_bytes), daemon=True)
        try:
            proc.start()
            send.close()
            if not receive.poll(self.timeout):
                proc.kill()
                raise ValidationFailed(
                    f"The evidence files took longer than {self.timeout:g} seconds to process. "
                    "Please send screenshots or smaller copies.",
                    errors=[{"loc": ["body", "evidence"], "msg": "processing took too long", "type": "timeout"}])
            try:
                result = receive.recv()
            except (EOFError, OSError):
                result = ("error", "ValidationFailed", "An evidence file could not be processed. Please send "
                          "a screenshot or a smaller copy.", None)
        finally:
            receive.close()
            proc.join(2)
            if proc.is_alive():  # pragma: no cover - it answered; it is only slow to exit
                proc.kill()
                proc.join(2)
            proc.close()
        if result[0] == "ok":
            return [CleanFile(media_type, content) for media_type, content in result[1]]
        _, name, detail, errors = result
        raise _ERRORS.get(name, ValidationFailed)(detail, errors=errors)
