"""shared.notify against real peers: an SMTP server (aiosmtpd) that requires STARTTLS and
authentication, and a webhook receiver that verifies signatures with the third-party
``standardwebhooks`` package."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import smtplib
import ssl
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from standardwebhooks import Webhook

from shared.errors import ValidationFailed
from shared.notify import (
    ChatWebhookChannel,
    EventType,
    Notification,
    SmtpChannel,
    check_target,
    resolve_target,
    signed_headers,
)
from tests.support.live import free_port
from tests.support.smtp import self_signed


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls this hook by name
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp(tmp_path):
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"civicsocial" \
            and auth_data.password == b"s3cret"
        return AuthResult(success=ok)

    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="localhost", port=port, tls_context=server_tls, require_starttls=True,
                            authenticator=authenticator, auth_required=True, auth_require_tls=True)
    controller.start()
    client_tls = ssl.create_default_context(cafile=str(cert))
    yield inbox, port, client_tls
    controller.stop()


def test_email_goes_over_starttls_with_auth_and_says_only_what_happened(smtp):
    inbox, port, tls = smtp
    channel = SmtpChannel(host="localhost", port=port, sender="no-reply@cabq.gov", username="civicsocial",
                          password="s3cret", tls_context=tls)
    channel.send("investigator@cabq.gov",
                 Notification(EventType.case_assigned, "C-2026-0042", "https://staff.cabq.gov/cases/C-2026-0042"))
    assert len(inbox.messages) == 1
    message = message_from_bytes(inbox.messages[0])
    assert message["Subject"] == "Case C-2026-0042 assigned to you"
    assert message["To"] == "investigator@cabq.gov" and message["Auto-Submitted"] == "auto-generated"
    body = message.get_payload(decode=True).decode()
    assert body.strip().splitlines() == ["Case C-2026-0042 has been assigned to you.", "",
                                         "https://staff.cabq.gov/cases/C-2026-0042"]


def test_wrong_credentials_send_nothing(smtp):
    inbox, port, tls = smtp
    channel = SmtpChannel(host="localhost", port=port, sender="no-reply@cabq.gov", username="civicsocial",
                          password="wrong", tls_context=tls, timeout=3)
    with pytest.raises(smtplib.SMTPException):  # refused (535), or the server hangs up
        channel.send("x@cabq.gov", Notification(EventType.sla_breached, "C-1", "https://staff.cabq.gov/"))
    assert inbox.messages == []


def test_a_resident_update_carries_no_reference_even_in_the_subject():
    subject, body = Notification(EventType.reporter_update, "R-2026-0001",
                                 "https://feedback.cabq.gov/receipt").render()
    assert "R-2026" not in subject + body
    assert subject == "An update on your report"


def test_every_event_has_a_message():
    for event in EventType:
        subject, body = Notification(event, "C-1", "https://staff.cabq.gov/").render()
        assert subject and body


class _Receiver:
    def __init__(self, secret: str) -> None:
        self.verified: list[dict] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                try:
                    receiver.verified.append(Webhook(secret).verify(body, dict(self.headers)))
                    self.send_response(204)
                except Exception:
                    receiver.refused += 1
                    self.send_response(400)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_webhooks_are_signed_per_standard_webhooks_and_verified_by_its_library():
    import httpx

    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    receiver = _Receiver(secret)
    try:
        payload = json.dumps({"type": "case.sla_breached", "case_reference": "C-2026-0042"})
        now = dt.datetime.now(dt.UTC)
        headers = signed_headers(secret, message_id="msg_1", timestamp=now, payload=payload)
        assert httpx.post(receiver.url, content=payload, headers=headers).status_code == 204
        assert receiver.verified == [{"type": "case.sla_breached", "case_reference": "C-2026-0042"}]
        tampered = payload.replace("0042", "0043")
        assert httpx.post(receiver.url, content=tampered, headers=headers).status_code == 400
        other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        forged = signed_headers(other, message_id="msg_2", timestamp=now, payload=payload)
        assert httpx.post(receiver.url, content=payload, headers=forged).status_code == 400
    finally:
        receiver.server.shutdown()


@pytest.mark.parametrize("url", [
    "http://hooks.example.org/x", "https://10.0.0.5/x", "https://169.254.169.254/latest/meta-data",
    "https://127.0.0.1/x", "https://user:pw@hooks.example.org/x", "https:///nohost",
])
def test_webhook_targets_that_are_refused(url):
    with pytest.raises(ValidationFailed):
        check_target(url)


def test_a_name_that_resolves_to_a_private_address_is_refused_at_send_time():
    with pytest.raises(ValidationFailed):
        resolve_target("https://localhost/hook")
    assert resolve_target("http://127.0.0.1:9/hook", allow_private=True) == ["127.0.0.1"]


def test_chat_webhook_posts_the_text(monkeypatch):
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ChatWebhookChannel().send(f"http://127.0.0.1:{server.server_address[1]}/teams",
                                  Notification(EventType.monitoring_overdue, "MR-7", "https://staff.cabq.gov/m/7"))
    finally:
        server.shutdown()
    assert got == [{"text": "Monitoring review MR-7 overdue\nThe monitoring review MR-7 is overdue.\n\n"
                            "https://staff.cabq.gov/m/7\n"}]
