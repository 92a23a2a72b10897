"""/v1/voice: the voice button's WebSocket.

Client → server: binary frames of mono audio — 16-bit little-endian PCM, or 8-bit
μ-law with ?encoding=mulaw — at ?rate= Hz (16000 by default; 8000, 24000, 44100 and
48000 are taken too). Server → client: binary frames of reply audio in the same
encoding at the rate announced in "audio_start", and JSON text events: ready,
speech_started, transcript, audio_start, reply, audio_end, timings, interrupted,
notice, error. Sign in with ?token=<bearer token> (a device token needs the
``voice`` or ``speaker`` scope), or, from the web page, with its session cookie when
the socket's Origin is this service's own; ?session= continues a
conversation. A second connection for the same user takes over: the first is told
so and closed (code 4000), on whichever service process it is (agent/cluster.py).
Audio sent much faster than real time (beyond a burst of
one long command, per user across connections) is refused with an error event and
code 1008; a socket with no audio either way for LIFEOS_VOICE_IDLE_SECONDS is closed
with code 4001. Refused tokens count against the client's address like refused HTTP
sign-ins.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import TYPE_CHECKING

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from agent import scopes
from agent.auth import TokenError, check_not_revoked
from agent.cluster import close_replaced
from agent.dialogue.voice import VoiceResponder
from agent.guards import client_address
from agent.observe import context
from agent.observe.voice import turn_reporter
from agent.services import Services
from agent.websession import ACCESS_COOKIE, same_origin
from skills.access import Reach
from speech.pace import MIN_TO_OPEN, TOO_FAST, TOO_FAST_REASON, AudioPace
from store.models import User

if TYPE_CHECKING:
    from speech.pipeline import VoiceConnection

router = APIRouter(tags=["voice"])
SESSION_ID = re.compile(r"[A-Za-z0-9_\-]{1,100}")  # as /v1/converse takes it
log = logging.getLogger(__name__)


@router.websocket("/v1/voice")
async def voice(
    socket: WebSocket,
    token: str = "",
    rate: int = 16000,
    encoding: str = "pcm16",
    session: str = "",
) -> None:
    services: Services = socket.app.state.services
    await socket.accept()  # accepted first, so a refusal can say why in its close reason
    try:
        signed_in = await _sign_in(services, socket, token)
        connection = await _open(services, socket, signed_in, rate, encoding, session)
    except WebSocketDisconnect:
        log.info("voice client left before it was ready")  # one line: nothing went wrong
        return
    if signed_in is None or connection is None:
        return
    user = signed_in[0]
    # The pipeline's tasks start inside this context: its log lines carry these.
    context.bind_user(user.id)
    context.session_id.set(connection.conversation)
    if services.scheduler is not None:  # reminders that found no open page go out now
        await services.scheduler.reachable_again(user.id)
    try:
        await connection.run()
    finally:
        _release(services, user.id, connection)


def _release(services: Services, user_id: uuid.UUID, connection: VoiceConnection) -> None:
    services.cluster.closed(user_id, connection)
    if services.voice_connections.get(user_id) is connection:
        del services.voice_connections[user_id]


async def _sign_in(
    services: Services, socket: WebSocket, token: str
) -> tuple[User, Reach | None] | None:
    """The user the socket speaks for, and what its token lets the skills do for it
    (a speaker's: no money); None when refused and closed."""
    try:
        claims = services.tokens.claims(token or _page_session(services, socket))
        if not scopes.allows(claims.scopes, "GET", scopes.VOICE_SOCKET):
            raise TokenError("this token may not open the voice socket")
        async with services.sessions() as db:
            await check_not_revoked(db, claims)
            user = await db.get(User, claims.user_id)
    except TokenError as exc:
        await services.sign_ins.failed(client_address(socket.scope))
        await socket.close(code=status.WS_1008_POLICY_VIOLATION, reason=str(exc))
        return None
    if user is None:
        await services.sign_ins.failed(client_address(socket.scope))
        await socket.close(code=status.WS_1008_POLICY_VIOLATION, reason="unknown user")
        return None
    return user, scopes.reach(claims.scopes)


def _page_session(services: Services, socket: WebSocket) -> str:
    """The page's session cookie, when the socket was opened by our own page: a
    browser sends the cookie whichever site opens the socket, and only the Origin
    tells them apart."""
    cookie = socket.cookies.get(ACCESS_COOKIE, "")
    if cookie and (
        "origin" not in socket.headers or not same_origin(socket, services.settings.public_url)
    ):
        raise TokenError("a cross-site voice socket is refused")
    return cookie


async def _open(
    services: Services,
    socket: WebSocket,
    signed_in: tuple[User, Reach | None] | None,
    rate: int,
    encoding: str,
    session: str,
) -> VoiceConnection | None:
    """Check the request, build its pipeline, take over from the user's older
    connection and say `ready`; None when the socket was refused and closed."""
    from speech.pipeline import INPUT_RATES, VoiceConnection

    if signed_in is None:
        return None
    user, reach = signed_in
    if rate not in INPUT_RATES or encoding not in ("pcm16", "mulaw"):
        reason = f"rate must be one of {', '.join(map(str, INPUT_RATES))}; encoding pcm16|mulaw"
        await socket.close(code=status.WS_1003_UNSUPPORTED_DATA, reason=reason)
        return None
    if session and not SESSION_ID.fullmatch(session):
        reason = "session must be 1-100 letters, digits, - or _"
        await socket.close(code=status.WS_1008_POLICY_VIOLATION, reason=reason)
        return None
    pace = _pace(services, user.id)
    if pace.left() < MIN_TO_OPEN:  # a client reconnecting to flood: no pipeline for it
        await socket.close(code=TOO_FAST, reason=TOO_FAST_REASON)
        return None
    stt, tts, phrases = await services.voice_models()
    assistant = services.assistant
    assert assistant is not None
    out_rate = 8000 if encoding == "mulaw" else 16000
    responder = VoiceResponder(assistant, user.id, session_id=session or None, reach=reach)
    connection = VoiceConnection(
        socket,
        stt,
        tts,
        responder,
        phrases=phrases,
        in_rate=rate,
        out_rate=out_rate,
        encoding="mulaw" if encoding == "mulaw" else "pcm16",
        idle_seconds=services.settings.voice_idle_seconds,
        pace=pace,
        conversation=responder.session_id,  # reminders said here are answered here
        on_turn=turn_reporter(services.metrics, services.tracing, "web"),
    )
    await _take_over(services, user.id, connection)
    try:
        await socket.send_json({"type": "ready", "input_rate": rate, "output_rate": out_rate})
    except WebSocketDisconnect:
        _release(services, user.id, connection)
        raise
    return connection


def _pace(services: Services, user_id: uuid.UUID) -> AudioPace:
    """The user's allowance of audio faster than real time, shared by their
    connections: a client that reconnects does not get a new burst."""
    settings = services.settings
    pace = services.audio_paces.get(user_id)
    if pace is None:
        pace = AudioPace(settings.voice_burst_seconds, settings.voice_max_speed)
        services.audio_paces[user_id] = pace
    return pace


async def _take_over(services: Services, user_id: uuid.UUID, connection: object) -> None:
    """One live voice connection per user: the newest wins, the older one is told —
    here, and through agent.cluster on every other service process."""
    previous = services.voice_connections.get(user_id)
    services.voice_connections[user_id] = connection
    await services.cluster.opened(user_id, connection)
    if previous is not None:
        await close_replaced(previous)
