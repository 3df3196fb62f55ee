"""Outbox messages of notifications (issue 17): what a service stores to tell a person, a team
channel, or another City system, after the change that caused it has committed.

A staff notification carries an event type, a public reference and a link, never a name,
reporter text or evidence (``shared.notify.Notification`` has no field for them). The address is
resolved when the message is enqueued (from the directory), so the relay only sends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.notify import Digest, EventType, Notification
from shared.schemas.base import InputModel, OutputModel


class NotificationLine(InputModel):
    event: EventType
    reference: str | None = Field(default=None, max_length=120)
    link: str = Field(max_length=500)

    def notification(self) -> Notification:
        return Notification(self.event, self.reference, self.link)


class NotificationMessage(InputModel):
    """One message on one channel. ``to`` is an email address for ``email``; for ``chat`` it is
    empty (the team channel's URL is configuration, a secret, never stored in the outbox).
    ``digest`` holds the lines of a daily digest, else ``line`` the single notification."""

    channel: Literal["email", "chat"]
    to: str = Field(default="", max_length=320)
    line: NotificationLine | None = None
    digest: list[NotificationLine] = Field(default_factory=list, max_length=500)

    def renderable(self) -> Notification | Digest:
        if self.digest:
            return Digest(tuple(item.notification() for item in self.digest))
        if self.line is None:
            raise ValueError("a notification message needs a line or a digest")
        return self.line.notification()


class WebhookEvent(OutputModel):
    """The body a subscribed City system receives (Standard Webhooks ``type``/``timestamp``/``data``
    envelope). ``data`` holds public references only: no names, no reporter text, no evidence."""

    type: EventType
    timestamp: datetime
    data: dict[str, str | None]


class ReporterUpdateMessage(InputModel):
    """feedback_api -> the reporter's email: "there is an update". Only the submission id is
    stored; the address is decrypted at send time, so an email erased meanwhile is never written to."""

    submission_id: str = Field(max_length=36)
