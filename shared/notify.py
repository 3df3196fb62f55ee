"""Notifications: what may be said, and the channels that say it (issue 17).

Content rules are enforced by the shape of ``Notification``: it holds an event type, a public
reference (a case reference such as ``C-2026-0042`` or a policy number) and a link to the staff
console, and nothing else. There is no field a reporter's words, an employee's name or evidence
could go into, so no sender can leak them by mistake.

Channels (one small interface, ``Channel.send``):
- ``SmtpChannel``: email over SMTP with STARTTLS and authentication (smtplib), timeouts always;
- ``ChatWebhookChannel``: a Microsoft Teams or Slack incoming webhook (a JSON ``text`` message).

Outbound webhooks for other City systems are signed per the Standard Webhooks specification
(``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) with the ``standardwebhooks``
library, and their targets are checked twice against private address ranges: when a
subscription is created (``check_target``) and again at send time (``resolve_target``), so a DNS
name cannot be pointed at an internal address after it was accepted.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from shared.errors import ValidationFailed, field_error


class EventType(StrEnum):
    case_new_in_queue = "case.new_in_queue"
    case_assigned = "case.assigned"
    sla_due_soon = "case.sla_due_soon"
    sla_breached = "case.sla_breached"
    restorative_due = "restorative.due"
    restorative_overdue = "restorative.overdue"
    monitoring_due = "monitoring.review_due"
    monitoring_overdue = "monitoring.review_overdue"
    acknowledgement_required = "policy.acknowledgement_required"
    policy_review_due = "policy.review_due"
    decision_awaiting_approval = "case.decision_awaiting_approval"
    employee_response_filed = "case.employee_response_filed"
    appeal_filed = "case.appeal_filed"
    reporter_update = "report.update_available"


# What each event says. {ref} is the public reference; the link is appended by ``render``.
_TEXT: dict[EventType, tuple[str, str]] = {
    EventType.case_new_in_queue: ("New case {ref} in your queue", "A new case, {ref}, is in your department's queue."),
    EventType.case_assigned: ("Case {ref} assigned to you", "Case {ref} has been assigned to you."),
    EventType.sla_due_soon: ("Case {ref}: deadline soon", "The current step of case {ref} is due soon."),
    EventType.sla_breached: ("Case {ref}: deadline passed", "The current step of case {ref} is past its deadline."),
    EventType.restorative_due: ("Case {ref}: restorative action due",
                                "A restorative action on case {ref} is due soon."),
    EventType.restorative_overdue: ("Case {ref}: restorative action overdue",
                                    "A restorative action on case {ref} is overdue."),
    EventType.monitoring_due: ("Monitoring review {ref} due", "The monitoring review {ref} is due."),
    EventType.monitoring_overdue: ("Monitoring review {ref} overdue", "The monitoring review {ref} is overdue."),
    EventType.acknowledgement_required: ("Please acknowledge policy {ref}",
                                         "A new version of policy {ref} applies to you. "
                                         "Please read and acknowledge it."),
    EventType.policy_review_due: ("Policy {ref}: review due", "The scheduled review of policy {ref} is due."),
    EventType.decision_awaiting_approval: ("Case {ref}: decision awaiting your approval",
                                           "A decision on case {ref} is waiting for your approval."),
    EventType.employee_response_filed: ("Case {ref}: employee response filed",
                                        "The employee has filed a response on case {ref}."),
    EventType.appeal_filed: ("Case {ref}: appeal filed", "An appeal has been filed on case {ref}."),
    # to a resident: no reference, no content, not even in the subject
    EventType.reporter_update: ("An update on your report",
                                "There is an update on a report you made to the City of Albuquerque. "
                                "You can read it with your receipt code."),
}


@dataclass(frozen=True)
class Notification:
    event: EventType
    reference: str | None  # a public reference; never a name, never reporter text
    link: str              # the staff console (or, for residents, the public receipt page)

    def render(self) -> tuple[str, str]:
        subject, body = _TEXT[self.event]
        ref = "" if self.event is EventType.reporter_update else (self.reference or "")
        return subject.format(ref=ref), f"{body.format(ref=ref)}\n\n{self.link}\n"


@dataclass(frozen=True)
class Digest:
    """A person's daily digest: one line per notification (its subject and link), nothing more,
    so the content rules hold for a digest as they do for each notification."""

    items: tuple[Notification, ...]

    def render(self) -> tuple[str, str]:
        n = len(self.items)
        lines = [f"- {item.render()[0]}\n  {item.link}" for item in self.items]
        return (f"Your daily summary: {n} notification{'s' if n != 1 else ''}",
                "Since your last summary:\n\n" + "\n".join(lines) + "\n")


class Renderable(Protocol):
    def render(self) -> tuple[str, str]: ...


class Channel(Protocol):
    name: str

    def send(self, recipient: str, notification: Renderable, *, message_id: str | None = None) -> None: ...


@dataclass
class SmtpChannel:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 10.0
    tls_context: ssl.SSLContext | None = None
    name: str = "email"

    def send(self, recipient: str, notification: Renderable, *, message_id: str | None = None) -> None:
        """``message_id``: a stable id (from the outbox's idempotency key), so a retried delivery the
        server already accepted carries the same ``Message-ID`` and mail clients fold the copies."""
        subject, body = notification.render()
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Auto-Submitted"] = "auto-generated"
        if message_id:
            domain = self.sender.rpartition("@")[2] or "civicsocial.invalid"
            message["Message-ID"] = f"<{message_id}@{domain}>"
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=self.tls_context or ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


@dataclass
class ChatWebhookChannel:
    """Teams or Slack incoming webhook: the URL is the recipient's channel."""

    timeout: float = 5.0
    name: str = "chat"

    def send(self, recipient: str, notification: Renderable, *, message_id: str | None = None) -> None:
        self.post(recipient, notification).raise_for_status()

    def post(self, recipient: str, notification: Renderable) -> httpx.Response:
        subject, body = notification.render()
        return httpx.post(recipient, json={"text": f"{subject}\n{body}"}, timeout=self.timeout)


# --- outbound webhooks ---------------------------------------------------------------------


def check_target(url: str, *, allow_private: bool = False) -> str:
    """A subscription's target: https (http only for loopback when private targets are allowed,
    i.e. in dev), no credentials in the URL, and a host that is not a private address."""
    parts = urlsplit(url)
    loopback_dev = allow_private and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not loopback_dev:
        raise ValidationFailed("A webhook target must be an https URL.",
                               errors=[field_error(["body", "url"], "https only")])
    if parts.username or parts.password or not parts.hostname:
        raise ValidationFailed("A webhook target must name a host and carry no credentials.",
                               errors=[field_error(["body", "url"], "no host or credentials in URL")])
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return url  # a name: checked again when it is resolved at send time
    if not allow_private and not address.is_global:
        raise ValidationFailed("A webhook target may not be a private address.",
                               errors=[field_error(["body", "url"], "private address")])
    return url


def resolve_target(url: str, *, allow_private: bool = False) -> list[str]:
    """The target's addresses now; refused if any is not public (DNS rebinding)."""
    parts = urlsplit(check_target(url, allow_private=allow_private))
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    addresses = sorted({str(info[4][0]) for info in infos})
    if not allow_private and any(not ipaddress.ip_address(a).is_global for a in addresses):
        raise ValidationFailed("The webhook target resolves to a private address.")
    return addresses


def signed_headers(secret: str, *, message_id: str, timestamp: datetime, payload: str) -> dict[str, str]:
    """Standard Webhooks headers for ``payload`` (the JSON body, exactly as sent). ``secret`` is
    ``whsec_<base64>``; to rotate, sign with the new secret and keep verifying with both."""
    signature = Webhook(secret).sign(message_id, timestamp, payload)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature, "content-type": "application/json"}
