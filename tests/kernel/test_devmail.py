"""``civicsocial dev`` starts a local mail sink and points the services' notifications at it
(issue 17): a message sent with the settings it gives lands in data/mail."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from services.case_api.settings import CaseSettings
from services.cli import _dev_mail
from shared.notify import EventType, Notification
from tests.support.live import free_port


def test_dev_mail_sink_keeps_what_the_services_send(tmp_path: Path, monkeypatch) -> None:
    env: dict[str, str] = {}
    procs: list[subprocess.Popen[bytes]] = []
    port = free_port()
    note = _dev_mail(tmp_path, "127.0.0.1", env, procs, tmp_path, False, port=port)
    try:
        assert f"smtp://127.0.0.1:{port}" in note and str(tmp_path / "mail") in note
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = CaseSettings()
        assert settings.notify.smtp_host == "127.0.0.1" and settings.notify.smtp_port == port
        channel = settings.notify.smtp_channel()
        assert channel is not None
        deadline = time.monotonic() + 15
        while True:
            try:
                channel.send("intake-1@cabq.example", Notification(EventType.case_new_in_queue, "C-2026-0042",
                                                                   "http://127.0.0.1:8004/cases/1"))
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "devmail.log").read_text()
                time.sleep(0.2)
        index = (tmp_path / "mail" / "index.txt").read_text()
        assert "to intake-1@cabq.example  New case C-2026-0042 in your queue" in index
        assert (tmp_path / "mail" / "00001.eml").read_bytes().count(b"C-2026-0042") >= 2
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
