"""Email over SMTP with aiosmtplib: sign-in codes, password resets, invitations."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

import aiosmtplib

TIMEOUT_SECONDS = 10.0


class MailError(RuntimeError):
    """The mail server refused the message or could not be reached."""


@dataclass(frozen=True)
class Mailer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    # "starttls" upgrades a plain connection (port 587), "tls" starts encrypted
    # (port 465); "none" only for a relay on this machine or a test server.
    security: Literal["starttls", "tls", "none"] = "starttls"

    async def send(self, to: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(text)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.security == "tls",
                start_tls=self.security == "starttls",
                timeout=TIMEOUT_SECONDS,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailError(f"the mail server did not take the message: {exc}") from exc
