"""A local SMTP server (aiosmtpd) on a loopback port, on the test's own event loop:
what the service mails lands in its inbox before the send returns."""

from __future__ import annotations

import asyncio
import email
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.smtp import SMTP


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def last_to(self, address: str) -> str:
        """The text of the latest message to ``address``."""
        mine = [m for m in self.messages if m["To"] == address]
        assert mine, f"nothing was mailed to {address}"
        payload = mine[-1].get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode()


def code_in(text: str) -> str:
    """The six-digit code in a message."""
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found.group(1)


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[Inbox, int]]:
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbox, hostname="mail.test", loop=loop), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    try:
        yield inbox, port
    finally:
        server.close()
        await server.wait_closed()
