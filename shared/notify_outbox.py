"""Delivering notifications from a service's outbox (issue 17), shared by case_api and policy_api.

``NotifyConfig`` is the channel configuration every notifying service embeds in its settings
(``CASE_API_NOTIFY__SMTP_HOST``...); a channel is off while its address is unset. ``handlers``
returns the outbox handlers for the email and chat topics; each sends with ``shared.notify`` and
answers the relay with a response ``shared.http.classify`` understands: 2xx delivered, a refusal
that retrying cannot cure (a 5xx SMTP reply, a 4xx from the chat endpoint) ``PermanentFailure``
(dead, visible on the ops endpoints, retryable by an admin), anything else retried with backoff.
``NotifyStats`` counts sent and failed per channel for ``/metrics``.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import BaseModel, Field, SecretStr
from sqlmodel import col, func, select

from shared.db import Database
from shared.errors import UpstreamFailed
from shared.notify import ChatWebhookChannel, Renderable, SmtpChannel, resolve_target
from shared.outbox import Delivery, Handler, OutboxColumns, PermanentFailure, Topic
from shared.schemas.notifications import NotificationMessage

NOTIFY_EMAIL = Topic("notify_email", "smtp", NotificationMessage)
NOTIFY_CHAT = Topic("notify_chat", "chat", NotificationMessage)
NOTIFY_PEERS = frozenset({NOTIFY_EMAIL.peer, NOTIFY_CHAT.peer, "webhook"})  # none has a /readyz


class NotifyConfig(BaseModel):
    smtp_host: str | None = Field(default=None, max_length=255, description="Email is off while unset.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = Field(default=None, max_length=255)
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ca_file: str | None = Field(default=None, description="CA bundle for the server's certificate "
                                     "(default: the system's).")
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    sender: str = Field(default="no-reply@cabq.gov", max_length=320)
    email_domain: str | None = Field(default=None, max_length=255, description=(
        "Address of a directory entry whose userName is not an email: <userName>@<email_domain>."))
    chat_webhook_url: SecretStr | None = Field(default=None, description=(
        "A Teams or Slack incoming webhook for the team channel; chat is off while unset."))
    allow_private_targets: bool = Field(default=False, description=(
        "Allow chat and webhook targets on loopback or private addresses, and http on loopback (dev only)."))
    console_url: str = Field(default="http://127.0.0.1:8004", max_length=300,
                             description="The staff console, for the links in notifications.")
    poll_seconds: float = Field(default=60.0, ge=0, le=86400, description="Scheduler interval; 0 disables it.")
    digest_hour_utc: int = Field(default=13, ge=0, le=23, description="When the daily digests go (13 UTC: 6 am MST).")
    lease_seconds: float = Field(default=120.0, ge=5, le=3600)
    webhook_rotation_hours: float = Field(default=24.0, ge=0, le=24 * 30, description=(
        "After a secret is rotated, deliveries carry the old signature beside the new for this long."))

    @property
    def email_on(self) -> bool:
        return bool(self.smtp_host)

    @property
    def chat_on(self) -> bool:
        return self.chat_webhook_url is not None

    def address_of(self, user_name: str) -> str | None:
        """A directory entry's email address: its userName when that is one, else on the City's domain."""
        if "@" in user_name:
            return user_name
        return f"{user_name}@{self.email_domain}" if self.email_domain else None

    def smtp_channel(self) -> SmtpChannel | None:
        if not self.smtp_host:
            return None
        tls = ssl.create_default_context(cafile=self.smtp_ca_file) if self.smtp_ca_file else None
        return SmtpChannel(host=self.smtp_host, port=self.smtp_port, sender=self.sender,
                           username=self.smtp_username,
                           password=self.smtp_password.get_secret_value() if self.smtp_password else None,
                           starttls=self.smtp_starttls, timeout=self.smtp_timeout_seconds, tls_context=tls)


class NotifyStats:
    """Per-channel counters of this process (sent, failed); pending is read from the outbox."""

    def __init__(self, pending: Callable[[], dict[str, int]] | None = None) -> None:
        self.sent: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self._pending = pending
        self._lock = threading.Lock()

    def count(self, channel: str, ok: bool) -> None:
        with self._lock:
            (self.sent if ok else self.failed)[channel] += 1

    def pending(self) -> dict[str, int]:
        return self._pending() if self._pending else {}


def pending_by_channel(db: Database, table: type[OutboxColumns]) -> dict[str, int]:
    """Undelivered notification messages per channel (for /metrics): one GROUP BY."""
    names = {NOTIFY_EMAIL.name: "email", NOTIFY_CHAT.name: "chat", "webhook": "webhook"}
    with db.read() as s:
        rows = s.exec(select(table.topic, func.count()).where(
            col(table.topic).in_(list(names)), col(table.delivered_at).is_(None), col(table.dead).is_(False))
            .group_by(col(table.topic))).all()
    out = dict.fromkeys(names.values(), 0)
    for topic, n in rows:
        out[names[topic]] = int(n)
    return out


def _ok() -> httpx.Response:
    return httpx.Response(200)


def deliver_email(channel: SmtpChannel | None, to: str, message: Renderable, *, message_id: str,
                  stats: NotifyStats) -> httpx.Response:
    """Send one email for a relay handler. Errors are reduced to their SMTP code or type: an
    address (which SMTP errors quote) never reaches the logs or the outbox's ``last_error``."""
    if channel is None:
        raise UpstreamFailed("Email is not configured.")  # kept pending until it is
    try:
        channel.send(to, message, message_id=message_id)
    except smtplib.SMTPResponseException as exc:
        stats.count("email", False)
        if exc.smtp_code >= 500:
            raise PermanentFailure(f"SMTP {exc.smtp_code}") from None
        raise UpstreamFailed(f"SMTP {exc.smtp_code}") from None
    except smtplib.SMTPRecipientsRefused:
        stats.count("email", False)
        raise PermanentFailure("SMTP refused the recipient") from None
    except (OSError, smtplib.SMTPException) as exc:
        stats.count("email", False)
        raise UpstreamFailed(f"SMTP: {type(exc).__name__}") from None
    stats.count("email", True)
    return _ok()


def handlers(config: NotifyConfig, stats: NotifyStats) -> dict[Topic[Any], Handler]:
    """The relay's handlers for the notification topics."""
    email = config.smtp_channel()
    chat = ChatWebhookChannel()

    def send_email(delivery: Delivery[NotificationMessage]) -> httpx.Response:
        m = delivery.message
        return deliver_email(email, m.to, m.renderable(), message_id=delivery.id, stats=stats)

    def send_chat(delivery: Delivery[NotificationMessage]) -> httpx.Response:
        if config.chat_webhook_url is None:
            raise UpstreamFailed("Chat is not configured.")
        url = config.chat_webhook_url.get_secret_value()
        try:
            resolve_target(url, allow_private=config.allow_private_targets)
        except Exception as exc:
            stats.count("chat", False)
            raise PermanentFailure(f"chat target refused: {type(exc).__name__}") from exc
        try:
            resp = chat.post(url, delivery.message.renderable())
        except httpx.TransportError as exc:
            stats.count("chat", False)
            raise UpstreamFailed(f"chat: {type(exc).__name__}") from exc
        stats.count("chat", resp.is_success)
        return resp

    return {NOTIFY_EMAIL: send_email, NOTIFY_CHAT: send_chat}
