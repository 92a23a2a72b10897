"""Messages to a person who is not signed in: a code or an invitation, by email to an
address or by SMS to a phone number. A channel that is not configured is refused
before anything is written, never silently dropped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.mail import Mailer, MailError
from agent.settings import Settings
from telephony.messenger import MessengerError, TwilioMessenger


class Unavailable(RuntimeError):
    """This service cannot send on that channel (no SMTP server, no Twilio)."""


class Undelivered(RuntimeError):
    """The mail server or Twilio refused the message."""


def channel_of(address: str) -> str:
    return "sms" if address.startswith("+") else "email"


@dataclass
class Outbox:
    settings: Settings
    texts: Callable[[], TwilioMessenger | None]  # a new Twilio client, or None

    def check(self, address: str) -> str:
        """The channel that reaches ``address``; raises Unavailable when it is not set up."""
        channel = channel_of(address)
        if channel == "email" and not self.settings.smtp_host:
            raise Unavailable("this service cannot send email: LIFEOS_SMTP_HOST is not set")
        if channel == "sms" and not self.settings.texts_configured:
            raise Unavailable("this service cannot send texts: Twilio is not configured")
        return channel

    async def send(self, address: str, subject: str, text: str) -> str:
        """Send ``text`` (``subject`` is the email's); the channel used."""
        channel = self.check(address)
        try:
            if channel == "email":
                await self._mailer().send(address, subject, text)
            else:
                await self._text(address, text)
        except (MailError, MessengerError) as exc:
            raise Undelivered(str(exc)) from exc
        return channel

    def _mailer(self) -> Mailer:
        s = self.settings
        assert s.smtp_host is not None
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        return Mailer(
            s.smtp_host, s.smtp_port, s.smtp_from, s.smtp_username, password, s.smtp_security
        )

    async def _text(self, number: str, text: str) -> None:
        messenger = self.texts()
        assert messenger is not None
        try:
            await messenger.send_sms(number, text)
        finally:
            await messenger.close()
