"""What every skill operation runs with: whose data, their preferences, a clock, a session."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from skills.files import FileStore
from store.models import User, UserSettings

if TYPE_CHECKING:
    from skills.access import Reach
    from skills.sealing import KeyRing


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class SkillContext:
    """One user's view of the store. Every query a skill makes is scoped by ``user_id``."""

    session: AsyncSession
    user_id: uuid.UUID
    settings: UserSettings
    clock: Callable[[], datetime] = system_clock
    ip: str | None = None  # recorded in the audit log when the request came over the network
    keys: KeyRing | None = field(default=None, repr=False)  # seals credentials kept at rest
    files: FileStore | None = None  # where generated documents are kept
    bank: Any = None  # a plaid_api.PlaidApi when bank linking is configured
    display_name: str = ""  # how documents name the user (invoices' "From")
    # What the device acting may do (a speaker: no money); None: all the user may.
    reach: Reach | None = None
    # The user's households and roles, read once when first needed (skills.access).
    memberships: dict[uuid.UUID, Any] | None = field(default=None, repr=False)

    @classmethod
    def for_user(cls, session: AsyncSession, user: User, **kwargs: object) -> SkillContext:
        name = str(user.preferences.model_extra.get("business_name") or user.name or user.email)
        return cls(  # type: ignore[arg-type]
            session=session,
            user_id=user.id,
            settings=user.preferences,
            display_name=name,
            **kwargs,
        )

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.settings.timezone)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def local_now(self) -> datetime:
        return self.clock().astimezone(self.tz)


class SkillError(Exception):
    """A request a skill refuses; the message is fit to show or speak to the user."""

    status = 422


class NotFound(SkillError):
    """The record does not exist for this user (another user's record looks the same)."""

    status = 404


class Conflict(SkillError):
    status = 409


class Unavailable(SkillError):
    """An outside service the skill needs (a CalDAV server) cannot be reached."""

    status = 502


def name_of(user: User | None) -> str:
    """How a refusal names another person: their name, or their address's first part."""
    return (user.name or user.email.split("@")[0]) if user else "someone else"


def joined(words: list[str]) -> str:
    """Several things in one phrase of a refusal: "2 invoices, 1 transaction and lists"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
