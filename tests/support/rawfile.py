"""Read a SQLite file's raw bytes without breaking this process's SQLite locks.

POSIX advisory locks belong to the process and the file, not to the descriptor: closing *any*
descriptor of a database file releases every lock this process holds on it, including the
SHARED lock SQLite's own connections keep on a WAL database (https://sqlite.org/howtocorrupt.html,
section 2.2). ``Path(db).read_bytes()`` in a test therefore left the session's test databases
unlocked: the next drill's uvicorn subprocess, closing its last connection, believed it was
alone, checkpointed and deleted the ``-wal`` and ``-shm`` files this process still had open,
and later tests found the file "malformed" or hit "disk I/O error". A child process reads the
bytes instead; its descriptors and its close are its own. ``tests/conftest.py`` fails any test
that opens a test database file in the pytest process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_CAT = "import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb').read())"


def read_raw(path: str | Path) -> bytes:
    """The bytes of ``path`` as a separate process reads them."""
    return subprocess.run([sys.executable, "-c", _CAT, str(path)], capture_output=True, check=True, timeout=60).stdout
