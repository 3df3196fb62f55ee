"""Waiting for something another thread or process does: poll ``predicate`` until it holds.

    assert wait_for(lambda: relay.stats().pending == 0, timeout=10)
    case = until(lambda: first_case(), what="the forwarded case")  # the value, or AssertionError
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.25) -> bool:
    """True as soon as ``predicate()`` is truthy; after ``timeout`` seconds, its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def until(fn: Callable[[], T], *, what: str = "the condition", timeout: float = 30.0, interval: float = 0.1) -> T:
    """The first truthy value ``fn()`` returns; ``AssertionError`` naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
