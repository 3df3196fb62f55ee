"""Dev-mode secrets: generated once into the data folder (0600), like the dev signing key.
Production must configure every secret explicitly (settings validation refuses to start otherwise)."""

from __future__ import annotations

import base64
import os
from pathlib import Path


def dev_secret(directory: Path, name: str) -> str:
    path = directory / f"feedback-{name}.secret"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        value = base64.urlsafe_b64encode(os.urandom(32)).decode()
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(value)
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip()
