"""The Twilio webhooks and the Media Streams socket:

    POST /v1/twilio/voice    an incoming call: TwiML that connects it to the stream
    WS   /v1/twilio/stream   the call's audio both ways, through the voice pipeline
    POST /v1/twilio/sms      an incoming text: the reply as TwiML
    POST /v1/twilio/status   how a text or call the service made went (status callback)

The voice webhook answers outbound calls too (a reminder call, Direction=outbound-api):
the user is then the number called (`To`), and the stream speaks the reminder first.

Every request must carry a valid X-Twilio-Signature for the public URL; anything
else gets 403 and changes nothing. The composition root puts a `Telephony` on
``app.state.telephony``; without one (Twilio not configured) the routes answer 503.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect, status
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from twilio.twiml.voice_response import Connect, VoiceResponse

from speech.turn import Responder
from store.models import User
from telephony.limits import DEFAULT_CALL_LIMIT, PerKeyLimit
from telephony.media import REMINDER_KEYS, TwilioMediaProtocol
from telephony.signature import SIGNATURE_HEADER, Signatures
from telephony.sms import SmsDesk
from telephony.status import record_status

if TYPE_CHECKING:  # imports pipecat, which loads with the first call
    from speech.observe import TurnDone

log = logging.getLogger(__name__)
router = APIRouter(
    prefix="/v1/twilio",
    tags=["twilio"],
    responses={
        403: {"description": "Not signed by Twilio for this address"},
        503: {"description": "Twilio is not configured"},
    },
)
STREAM_PATH = "/v1/twilio/stream"
STATUS_PATH = "/v1/twilio/status"
# What the stream's `start` must carry back; "reminder" names the reminder a call
# placed by the service is about ("" for a call the user made).
STREAM_PARAMETERS = ("call_sid", "caller", "reminder")
UNKNOWN_CALLER = (
    "Sorry, this number isn't linked to a Life OS account, so I can't help you on this "
    "call. Goodbye."
)
CALLED_TOO_OFTEN = (
    "Sorry, this number has called many times in a short while, so I can't take "
    "another call now. Please try again later. Goodbye."
)
TWIML = "application/xml"
POLICY = 1008  # close code: the stream's start was not vouched for


@dataclass
class Telephony:
    signatures: Signatures
    sms: SmsDesk
    sessions: async_sessionmaker[AsyncSession]
    voice_models: Callable[[], Awaitable[Any]]  # (stt, tts, fixed phrases)
    # The assistant for one call: (user, caller's number, CallSid) → Responder
    responder: Callable[[uuid.UUID, str, str], Responder]
    # A call where nobody speaks and nothing is said for this long is hung up.
    idle_seconds: float = 120.0
    # The words a reminder call opens with: (user, reminder) → text, None when that
    # user has no such reminder.
    announcement: Callable[[uuid.UUID, uuid.UUID], Awaitable[str | None]] | None = None
    # Told each turn's record once its reply has gone out (metrics, traces, logs).
    on_turn: TurnDone | None = None
    # Twilio's word on a text or call the service made: (SID, status). Also told
    # (CallSid, "answered") once a reminder call has spoken its reminder.
    reported: Callable[[str, str], Awaitable[None]] | None = None
    # Calls in per calling number; beyond it a call is refused before it streams.
    calls: PerKeyLimit = field(default_factory=lambda: PerKeyLimit(DEFAULT_CALL_LIMIT, "call"))


def _telephony(app: Any) -> Telephony:
    telephony = getattr(app.state, "telephony", None)
    if telephony is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Twilio is not configured")
    return telephony


async def _signed_form(request: Request) -> tuple[Telephony, dict[str, str]]:
    telephony = _telephony(request.app)
    form = {key: str(value) for key, value in (await request.form()).items()}
    url = telephony.signatures.address(request.url.path, request.scope["query_string"].decode())
    if not telephony.signatures.valid(url, form, request.headers.get(SIGNATURE_HEADER)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not signed by Twilio for this address")
    return telephony, form


async def caller(sessions: async_sessionmaker[AsyncSession], number: str) -> User | None:
    if not number:
        return None
    async with sessions() as db:
        return (await db.exec(select(User).where(User.phone == number))).first()


@router.post("/voice", summary="Twilio voice webhook: answer a call")
async def voice(request: Request) -> Response:
    telephony, form = await _signed_form(request)
    response = VoiceResponse()
    # A call the service placed (a reminder) reaches the user at `To`; the reminder
    # it is about comes in the URL the service gave Twilio, which Twilio signs.
    placed = form.get("Direction", "").startswith("outbound")
    number, call_sid = form.get("To" if placed else "From", ""), form.get("CallSid", "")
    reminder = request.query_params.get("reminder", "") if placed else ""
    if not placed and not await telephony.calls.hit(number):
        return _refusal(CALLED_TOO_OFTEN)  # no stream: no speech models spent on it
    if await caller(telephony.sessions, number) is None or not call_sid:
        return _refusal(UNKNOWN_CALLER)
    url = telephony.signatures.address(STREAM_PATH, websocket=True)
    values = dict(zip(STREAM_PARAMETERS, (call_sid, number, reminder), strict=True))
    connect = Connect()
    stream = connect.stream(url=url)
    for name, value in values.items():
        stream.parameter(name=name, value=value)
    # The stream cannot be signed by Twilio's parameters alone: we vouch for them.
    stream.parameter(name="signature", value=telephony.signatures.sign(url, values))
    response.append(connect)
    response.hangup()  # when the stream ends (the conversation is over), so does the call
    return Response(str(response), media_type=TWIML)


def _refusal(words: str) -> Response:
    response = VoiceResponse()
    response.say(words)
    response.hangup()
    return Response(str(response), media_type=TWIML)


@router.post("/sms", summary="Twilio messaging webhook: answer a text")
async def sms(request: Request) -> Response:
    telephony, form = await _signed_form(request)
    return Response(await telephony.sms.handle(form), media_type=TWIML)


@router.post("/status", summary="Twilio status callback: how a text or call went")
async def delivery_status(request: Request) -> Response:
    telephony, form = await _signed_form(request)
    found = await record_status(telephony.sessions, form)
    if found is not None and telephony.reported is not None:
        sid, state = found
        await telephony.reported(sid, state)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.websocket("/stream")
async def stream(socket: WebSocket) -> None:
    telephony = getattr(socket.app.state, "telephony", None)
    await socket.accept()
    if telephony is None:
        await socket.close(code=POLICY, reason="Twilio is not configured")
        return
    try:
        start = await _start(telephony, socket)
    except WebSocketDisconnect:
        log.info("media stream left before it started")
        return
    if start is None:
        await socket.close(code=POLICY, reason="not a stream this service opened")
        return
    user, values, stream_sid = start
    opening = await _opening(telephony, user, values["reminder"])
    await _converse(
        telephony, socket, user, values["caller"], values["call_sid"], stream_sid, opening
    )


async def _opening(telephony: Telephony, user: User, reminder: str) -> str | None:
    """What a reminder call says first: the reminder, if it is this user's."""
    if not reminder or telephony.announcement is None:
        return None
    try:
        reminder_id = uuid.UUID(reminder)
    except ValueError:
        return None
    return await telephony.announcement(user.id, reminder_id)


async def _start(
    telephony: Telephony, socket: WebSocket
) -> tuple[User, dict[str, str], str] | None:
    """Read `connected` and `start`; the stream is taken only if the upgrade request
    is signed by Twilio for our stream address and `start` carries back parameters
    signed by the voice webhook for a known caller."""
    signatures = telephony.signatures
    url = signatures.address(STREAM_PATH, socket.scope["query_string"].decode(), websocket=True)
    if not signatures.valid(url, {}, socket.headers.get(SIGNATURE_HEADER)):
        return None
    for _ in range(3):  # `connected` comes first; `start` right after it
        try:
            message = json.loads(await socket.receive_text())
        except (ValueError, KeyError):
            return None
        if message.get("event") == "start":
            break
    else:
        return None
    details = message.get("start") or {}
    given = details.get("customParameters") or {}
    values = {name: str(given.get(name, "")) for name in STREAM_PARAMETERS}
    bare = signatures.address(STREAM_PATH, websocket=True)
    if not signatures.valid(bare, values, given.get("signature")):
        return None
    user = await caller(telephony.sessions, values["caller"])
    if user is None:
        return None
    return user, values, str(message.get("streamSid", ""))


async def _converse(
    telephony: Telephony,
    socket: WebSocket,
    user: User,
    number: str,
    call_sid: str,
    stream_sid: str,
    opening: str | None = None,
) -> None:
    from speech.pipeline import VoiceConnection  # pipecat loads on the first call

    stt, tts, phrases = await telephony.voice_models()
    protocol = TwilioMediaProtocol(stream_sid, REMINDER_KEYS if opening is not None else None)
    connection = VoiceConnection(
        socket,
        stt,
        tts,
        telephony.responder(user.id, number, call_sid),
        phrases=phrases,
        in_rate=8000,
        out_rate=8000,
        serializer=protocol,
        idle_seconds=telephony.idle_seconds,
        on_turn=telephony.on_turn,
    )
    if opening is not None:

        @connection.worker.event_handler("on_pipeline_started")
        async def _say_the_reminder(_worker: object, _frame: object) -> None:
            spoken = await connection.announce(opening, {"type": "reminder", "text": opening})
            if spoken and telephony.reported is not None:
                await telephony.reported(call_sid, "answered")  # it reached the user

    try:
        await connection.run()
    finally:
        for timings in protocol.timings:
            log.info("call %s turn: %s", call_sid, timings)
