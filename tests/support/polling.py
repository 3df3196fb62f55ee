"""Waiting for something another thread or process does: poll ``predicate`` until it holds.

    assert wait_for(lambda: relay.stats().pending == 0, timeout=10)
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.25) -> bool:
    """True as soon as ``predicate()`` is truthy; after ``timeout`` seconds, its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
