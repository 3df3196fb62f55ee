"""A local mail sink for ``civicsocial dev`` (issue 17): an SMTP server on loopback (aiosmtpd,
a dev dependency) that keeps every message it receives as ``<dir>/<n>.eml`` and one line per
message in ``<dir>/index.txt`` (time, recipient, subject), so a new user can see the
notifications the services send. Plain SMTP without authentication: for loopback only.

    python -m services.devmail --port 8025 --dir data/mail
"""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any


class MailDir:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook
        message = message_from_bytes(envelope.content)
        with self._lock:
            n = sum(1 for _ in self.folder.glob("*.eml")) + 1
            (self.folder / f"{n:05d}.eml").write_bytes(envelope.content)
            with (self.folder / "index.txt").open("a", encoding="utf-8") as index:
                index.write(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z  {n:05d}.eml  to {', '.join(envelope.rcpt_tos)}"
                            f"  {message.get('Subject', '')}\n")
        return "250 OK"


def main() -> None:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("data/mail"))
    args = parser.parse_args()
    controller = Controller(MailDir(args.dir), hostname=args.host, port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"dev mail sink on smtp://{args.host}:{args.port}, messages in {args.dir}", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
