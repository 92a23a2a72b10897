"""What the Twilio channels keep: replies to the text messages already answered (so
a retried webhook answers the same and acts once), numbers that texted STOP, and
each user's phone PIN (hashed), asked before money is touched over the phone."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from store.models.base import created_field


class TwilioMessage(SQLModel, table=True):
    """An inbound text message already answered, by Twilio's MessageSid."""

    __tablename__ = "twilio_messages"

    message_sid: str = Field(primary_key=True, max_length=64)
    number: str = Field(max_length=16, index=True)  # who sent it (E.164)
    reply: str  # the answer given, repeated to a retry
    received_at: datetime = created_field()


class TwilioStatus(SQLModel, table=True):
    """The last status Twilio reported for a text or call the service made (queued,
    sent, delivered, undelivered, failed; completed, busy, no-answer…). Kept apart
    from the delivery log: a callback may come before the attempt is written."""

    __tablename__ = "twilio_statuses"

    sid: str = Field(primary_key=True, max_length=64)
    status: str = Field(max_length=20)
    error_code: str | None = Field(default=None, max_length=10)
    updated_at: datetime = created_field()


class SmsOptOut(SQLModel, table=True):
    """A number that texted STOP: nothing is texted to it until it texts START."""

    __tablename__ = "sms_opt_outs"

    number: str = Field(primary_key=True, max_length=16)
    since: datetime = created_field()


class PhonePin(SQLModel, table=True):
    """A user's phone PIN as a salted scrypt hash, never the digits themselves."""

    __tablename__ = "phone_pins"

    user_id: uuid.UUID = Field(primary_key=True, foreign_key="users.id", ondelete="CASCADE")
    pin_hash: str = Field(max_length=200)
    set_at: datetime = created_field()
