"""Outbound texts and calls through Twilio's REST API, with the `twilio` library's
own asynchronous client. The API's address can be changed (LIFEOS_TWILIO_API_BASE)
so that tests and the eval harness talk to a local server speaking Twilio's API."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from twilio.base import values
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from store.models import SmsOptOut

TIMEOUT_SECONDS = 10.0
_UNSET = values.unset  # the library's marker for "leave this parameter out"


class MessengerError(RuntimeError):
    """Twilio refused or could not be reached; the message says which, for logs."""


class OptedOut(MessengerError):
    """The number texted STOP: it is texted nothing until it texts START."""


@dataclass(frozen=True)
class Sent:
    sid: str  # Twilio's id of the message or call (SM… / CA…)
    status: str  # "queued", "accepted", …


class TwilioMessenger:
    """``await send_sms(to, body, status_callback)`` and ``await place_call(to, …)``;
    ``await close()`` when done (it owns an aiohttp session)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_base: str | None = None,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        """With ``sessions``, numbers that texted STOP are refused before Twilio is
        asked (Twilio refuses them too, with error 21610)."""
        self.from_number = from_number
        self.sessions = sessions
        self._http = AsyncTwilioHttpClient(timeout=TIMEOUT_SECONDS)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        if api_base:
            self._client.api.base_url = api_base.rstrip("/")

    async def send_sms(self, to: str, body: str, status_callback: str | None = None) -> Sent:
        """Text ``body`` to ``to`` (E.164). Twilio posts the delivery status to
        ``status_callback`` when given. Raises OptedOut for a number that texted STOP."""
        if self.sessions is not None:
            async with self.sessions() as db:
                if await db.get(SmsOptOut, to) is not None:
                    raise OptedOut(f"{to} texted STOP: no texts until it texts START")
        try:
            message = await self._client.messages.create_async(
                to=to,
                from_=self.from_number,
                body=body,
                status_callback=status_callback or _UNSET,
            )
        except TwilioRestException as exc:
            raise MessengerError(f"Twilio refused the text to {to}: {exc.msg}") from exc
        except OSError as exc:
            raise MessengerError(f"Twilio could not be reached: {exc}") from exc
        return Sent(sid=str(message.sid), status=str(message.status))

    async def place_call(
        self,
        to: str,
        *,
        url: str | None = None,
        say: str | None = None,
        status_callback: str | None = None,
    ) -> Sent:
        """Ring ``to``. When it answers, Twilio fetches its instructions from ``url``
        (e.g. the service's /v1/twilio/voice, for a conversation) or, with ``say``,
        speaks that text and hangs up. Exactly one of the two is given."""
        if (url is None) == (say is None):
            raise ValueError("place_call needs either url or say")
        twiml = _UNSET
        if say is not None:
            response = VoiceResponse()
            response.say(say)
            response.hangup()
            twiml = str(response)
        try:
            call = await self._client.calls.create_async(
                to=to,
                from_=self.from_number,
                url=url or _UNSET,
                twiml=twiml,
                status_callback=status_callback or _UNSET,
            )
        except TwilioRestException as exc:
            raise MessengerError(f"Twilio refused the call to {to}: {exc.msg}") from exc
        except OSError as exc:
            raise MessengerError(f"Twilio could not be reached: {exc}") from exc
        return Sent(sid=str(call.sid), status=str(call.status))

    async def hang_up(self, call_sid: str) -> None:
        """End a call in progress (Twilio's call update with status=completed)."""
        try:
            await self._client.calls(call_sid).update_async(status="completed")
        except TwilioRestException as exc:
            raise MessengerError(f"Twilio refused to end call {call_sid}: {exc.msg}") from exc

    async def close(self) -> None:
        await self._http.close()
