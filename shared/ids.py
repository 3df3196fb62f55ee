"""Identifiers: time-ordered UUIDv7 strings for rows, readable public references."""

from __future__ import annotations

import os
import secrets
import time
import uuid

# Crockford base32 without I, L, O, U: easy to read aloud and type from paper.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A UUIDv7 (RFC 9562): sortable by creation time, unguessable in its random part."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def new_reference(prefix: str, length: int = 8) -> str:
    """A short public reference such as ``R-7KQ2-M9XD``: not secret, only unique enough to quote."""
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(length))
    half = length // 2
    return f"{prefix}-{chars[:half]}-{chars[half:]}"
