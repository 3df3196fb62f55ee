"""A real SMTP server on loopback (aiosmtpd) that requires STARTTLS and authentication, for the
notification tests: ``with smtp_sink(tmp_path) as sink: ... sink.messages``."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.live import free_port

USER, PASSWORD = "civicsocial", "s3cret"


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Sink:
    port: int
    ca_file: str
    raw: list[tuple[list[str], bytes]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook
        with self._lock:
            self.raw.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    @property
    def messages(self) -> list[Message]:
        with self._lock:
            return [message_from_bytes(content) for _, content in self.raw]

    def settings(self) -> dict[str, Any]:
        """The ``notify`` settings that send to this sink."""
        return {"smtp_host": "localhost", "smtp_port": self.port, "smtp_username": USER, "smtp_password": PASSWORD,
                "smtp_ca_file": self.ca_file, "sender": "no-reply@cabq.gov", "email_domain": "cabq.gov",
                "console_url": "https://staff.cabq.gov", "poll_seconds": 0, "smtp_timeout_seconds": 5}


@contextmanager
def smtp_sink(tmp: Path) -> Iterator[Sink]:
    cert, key = self_signed(tmp)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: Any, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
            and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok)

    sink = Sink(port=free_port(), ca_file=str(cert))
    controller = Controller(sink, hostname="localhost", port=sink.port, tls_context=server_tls,
                            require_starttls=True, authenticator=authenticator, auth_required=True,
                            auth_require_tls=True)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
