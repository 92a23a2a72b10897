"""`lifeos call`: one recorded utterance through the real Twilio path — the signed
voice webhook, the Media Streams socket and the same voice pipeline a caller gets —
served on a loopback port inside this process, with Twilio played by
agent/phone_call.py. Its signatures are real: with no Twilio account configured, a
token made for the run signs and checks them."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime

from pydantic import SecretStr
from sqlmodel import col, select

from agent.app import create_app
from agent.dialogue.phone import phone_session
from agent.loopback import loopback
from agent.phone_call import RATE, TwilioCall
from agent.services import Services, build_telephony
from speech.audio import Audio
from store.models import ConversationTurn
from store.types import utcnow

START_WAIT = 60.0  # seconds after the recording for a reply to begin; else nothing was heard


@dataclass
class Called:
    heard: str = ""
    said: str = ""
    audio: Audio | None = None
    first_audio_ms: float | None = None  # end of the recording → first reply audio
    refused: str | None = None  # what an unknown number was told instead


async def call(services: Services, number: str, recording: Audio) -> Called:
    app = create_app(services=services)
    async with loopback(app) as url:
        token = _with_telephony(services, url)
        app.state.telephony = services.telephony
        started = utcnow()
        async with TwilioCall(url, url, token, number) as phone:
            if phone.refused is not None:
                return Called(refused=phone.refused)
            await phone.say(recording.resampled(RATE).pcm)
            try:
                await asyncio.wait_for(phone.reply_started.wait(), START_WAIT)
                await phone.wait_for_reply()
            except TimeoutError:
                return Called()
        result = Called(audio=Audio(bytes(phone.played.audio), RATE))
        if phone.played.first_audio is not None:
            result.first_audio_ms = (phone.played.first_audio - phone.last_sent) * 1000
    result.heard, result.said = await _turn(services, number, started)
    return result


def _with_telephony(services: Services, url: str) -> str:
    """Point the Twilio routes at the loopback address; the configured auth token
    signs when there is one, else a token made for this run."""
    token = services.settings.twilio_auth_token or SecretStr(secrets.token_hex(16))
    services.settings = services.settings.model_copy(
        update={"public_url": url, "twilio_auth_token": token}
    )
    services.telephony = build_telephony(services)
    return token.get_secret_value()


async def _turn(services: Services, number: str, since: datetime) -> tuple[str, str]:
    """What the call's turn was heard as and answered with, from the conversation."""
    async with services.sessions() as db:
        rows = (
            await db.exec(
                select(ConversationTurn)
                .where(ConversationTurn.session_id == phone_session(number))
                .where(col(ConversationTurn.created_at) >= since)
                .order_by(col(ConversationTurn.created_at))
            )
        ).all()
    heard = " ".join(r.text for r in rows if r.role == "user")
    said = " ".join(r.text for r in rows if r.role == "assistant")
    return heard, said
