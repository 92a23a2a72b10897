"""The ways a reminder reaches a user, tried in the order the user prefers.

A channel is one async method, ``deliver(reminder, user) -> DeliveryResult``: it
reports "delivered", "sent" (Twilio took it: its report decides, skills/reminders/
reports.py), "unreachable" (the user cannot be reached this way now: no open page,
no phone number, texts stopped) or "failed" (it tried and it broke). The scheduler
tries the next channel on "unreachable" and "failed", and after a "sent" whose
report says it did not reach the user.

Plugging a channel in: implement `DeliveryChannel` with a ``name`` from
``store.models.users.REMINDER_CHANNELS`` and register it on the service's registry
(``services.channels.register(channel)`` in ``Services.build``). A channel that
delivers into a conversation the user can answer in (an SMS thread, a call) returns
that conversation's ``session_id``: the next turn there applies to the reminder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from store.models import Reminder, User

if TYPE_CHECKING:  # the cluster answers in this module's results
    from agent.cluster import VoiceCluster

# "sent": Twilio took the text or call; its report says later whether it reached the user.
Result = Literal["delivered", "sent", "unreachable", "failed"]


@dataclass(frozen=True)
class DueReminder:
    """A reminder being delivered, with the words to say and show."""

    reminder: Reminder
    text: str
    now: datetime  # in the user's zone


@dataclass(frozen=True)
class DeliveryResult:
    result: Result
    detail: str | None = None
    session_id: str | None = None  # the conversation the user can answer in
    twilio_sid: str | None = None  # the text or call Twilio made (its status comes later)

    @classmethod
    def delivered(cls, session_id: str | None = None) -> DeliveryResult:
        return cls("delivered", session_id=session_id)

    @classmethod
    def sent(cls, session_id: str, twilio_sid: str) -> DeliveryResult:
        return cls("sent", session_id=session_id, twilio_sid=twilio_sid)

    @classmethod
    def unreachable(cls, why: str) -> DeliveryResult:
        return cls("unreachable", why)

    @classmethod
    def failed(cls, why: str) -> DeliveryResult:
        return cls("failed", why)


class DeliveryChannel(Protocol):
    name: str

    async def deliver(self, reminder: DueReminder, user: User) -> DeliveryResult: ...


class Channels:
    """The channels this service can deliver through, by name."""

    def __init__(self, channels: Iterable[DeliveryChannel] = ()) -> None:
        self._by_name: dict[str, DeliveryChannel] = {}
        for channel in channels:
            self.register(channel)

    def register(self, channel: DeliveryChannel) -> None:
        self._by_name[channel.name] = channel

    def for_user(self, preferred: Iterable[str]) -> list[DeliveryChannel]:
        """The user's channels in their order, those this service has."""
        return [self._by_name[name] for name in preferred if name in self._by_name]

    def names(self) -> list[str]:
        return list(self._by_name)


class WebPageChannel:
    """The web page, when the user has it open: the reminder is shown, spoken through
    the voice socket as a reply the service starts, and raised as a browser
    notification by the page. The socket may be on another service process: the
    voice cluster (agent/cluster.py) finds it."""

    name = "web"

    def __init__(self, cluster: Callable[[], VoiceCluster]) -> None:
        self.cluster = cluster  # looked up at each delivery: the service sets its own up later

    async def deliver(self, reminder: DueReminder, user: User) -> DeliveryResult:
        row = reminder.reminder
        event = {
            "type": "reminder",
            "id": str(row.id),
            "kind": str(row.kind),
            "title": row.title,
            "text": reminder.text,
            "due_at": row.fire_at.isoformat(),
        }
        return await self.cluster().announce(user.id, reminder.text, event)
