"""PDFs in tests: their text as poppler's pdftotext reads it (one space between words), and a copy
of the file with PNG renderings of its pages (pdftoppm, 60 dpi) kept to be looked at."""

from __future__ import annotations

import subprocess
from pathlib import Path


def pdf_text(content: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


def keep(content: bytes, folder: Path, name: str) -> Path:
    """Write ``name`` (a PDF) into ``folder`` and render its pages next to it as ``name-N.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(path.with_suffix(""))], check=True)
    return path
