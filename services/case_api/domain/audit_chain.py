"""The tamper-evident audit chain: plain functions, no database.

Each entry's hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of
``{seq, at, actor, action, case_id, detail, prev_hash}``. The first entry's ``prev_hash``
is ``GENESIS``. Verification recomputes every hash in ``seq`` order and checks that the
sequence has no gaps, that each entry names the previous entry's hash, and that the last
entry matches the recorded head; it reports the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.timeutil import as_utc

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    case_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS
    hash: str = ""


def canonical(entry: ChainEntry) -> bytes:
    body = {
        "seq": entry.seq,
        "at": as_utc(entry.at).isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "case_id": entry.case_id,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def compute_hash(entry: ChainEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def seal(*, seq: int, at: datetime, actor: str, action: str, case_id: str | None,
         detail: dict[str, Any], prev_hash: str) -> ChainEntry:
    """A new entry with its hash filled in."""
    draft = ChainEntry(seq=seq, at=at, actor=actor, action=action, case_id=case_id, detail=detail,
                       prev_hash=prev_hash)
    return ChainEntry(**{**draft.__dict__, "hash": compute_hash(draft)})


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    head_seq: int | None = None
    head_hash: str | None = None


def verify(entries: Iterable[ChainEntry], *, head: tuple[int, str] | None) -> Verification:
    """Check a chain given in ascending ``seq`` order against the recorded head ``(seq, hash)``."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    last: ChainEntry | None = None
    for entry in entries:
        if entry.seq != expected_seq:
            return Verification(False, checked, expected_seq,
                                f"entry {expected_seq} is missing (found {entry.seq} next)")
        if entry.prev_hash != prev_hash:
            return Verification(False, checked, entry.seq,
                                "prev_hash does not match the previous entry's hash (an entry before it was "
                                "changed or removed)")
        if compute_hash(entry) != entry.hash:
            return Verification(False, checked, entry.seq, "the entry's content does not match its hash (edited)")
        prev_hash = entry.hash
        expected_seq += 1
        checked += 1
        last = entry
    if head is None:
        if last is not None:
            return Verification(False, checked, last.seq, "entries exist but the chain head is missing")
        return Verification(True, 0)
    head_seq, head_hash = head
    if last is None or last.seq != head_seq or last.hash != head_hash:
        broken = (last.seq + 1) if last is not None and last.seq < head_seq else head_seq
        return Verification(False, checked, broken,
                            "the newest entries do not match the recorded chain head (removed or rewritten)",
                            head_seq, head_hash)
    return Verification(True, checked, head_seq=head_seq, head_hash=head_hash)
