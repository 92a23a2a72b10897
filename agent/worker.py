"""`lifeos worker`: the LiveKit agent. It registers with a LiveKit server under
LIFEOS' agent name, is dispatched to the rooms our room tokens create, finds the
participant the room is for, and talks with them through the same Whisper, Piper,
turn ending and assistant as the voice socket and the phone line.

Each job runs in its own process (livekit-agents' process pool); a process loads
the models once (`_prepare`) before its job, so a dispatched room is answered at
once. More workers on more machines take more rooms: the server spreads jobs over
every worker registered under the same agent name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from agent.auth import TokenError
from agent.rooms import IDENTITY_PREFIX, identity_of, participant_user
from agent.settings import Settings

if TYPE_CHECKING:  # imported where used: a wrong address is reported before they load
    from livekit import rtc
    from livekit.agents import AgentServer, JobContext, JobProcess

    from agent.services import Services

log = logging.getLogger("lifeos.worker")
PROBE_SECONDS = 5.0
LOAD_SECONDS = 180.0  # a job process loads Whisper and Piper first: slow on a busy box
DRAIN_SECONDS = 300  # on SIGTERM, rooms in progress get this long to finish


class WorkerError(Exception):
    """The worker cannot start or lost its server; the message says why."""


def check_configured(settings: Settings) -> str:
    """The server's URL, or WorkerError when LiveKit is not set up."""
    if not settings.livekit_configured or settings.livekit_url is None:
        raise WorkerError(
            "LiveKit is not configured: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET"
        )
    return settings.livekit_url


def build_server(settings: Settings) -> AgentServer:
    from livekit.agents import AgentServer

    check_configured(settings)
    assert settings.livekit_api_secret is not None
    server = AgentServer(
        ws_url=settings.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value(),
        setup_fnc=_prepare,
        initialize_process_timeout=LOAD_SECONDS,
        drain_timeout=DRAIN_SECONDS,
    )
    server.rtc_session(entrypoint, agent_name=settings.livekit_agent_name)
    return server


async def reachable(url: str) -> None:
    """Open a TCP connection to the server, or raise WorkerError saying why: at start a
    wrong address is one line, not minutes of livekit-agents' reconnection attempts."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
        raise WorkerError(f"LIVEKIT_URL must be a ws://, wss://, http:// or https:// URL: {url}")
    secure = parts.scheme in ("wss", "https")
    port = parts.port or (443 if secure else 80)
    try:
        async with asyncio.timeout(PROBE_SECONDS):
            _reader, writer = await asyncio.open_connection(parts.hostname, port)
    except (OSError, TimeoutError) as exc:
        reason = str(exc) or f"no answer in {PROBE_SECONDS:g} s"
        raise WorkerError(f"cannot reach the LiveKit server at {url}: {reason}") from None
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def serve(server: AgentServer, url: str) -> None:
    """Run until SIGINT or SIGTERM, then let rooms in progress finish (drain)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = asyncio.create_task(server.run(), name="livekit-worker")
    stopping = asyncio.create_task(stop.wait(), name="stop-signal")
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not running.done():
        with contextlib.suppress(TimeoutError):
            await server.drain()
    await server.aclose()
    if running.done() and not running.cancelled() and (failure := running.exception()):
        raise WorkerError(f"lost the LiveKit server at {url}: {failure}")
    running.cancel()


def _prepare(process: JobProcess) -> None:
    """In each job process, before its job: the service's parts and warm models."""
    from agent import preload
    from agent.services import Services

    settings = Settings()
    services = Services.build(settings)
    voice = preload.load_voice_models(settings.whisper_model, settings.whisper_window_seconds)
    services._voice = voice
    if services.assistant is not None:
        services.assistant.parser.rules.warm_up_all()
    process.userdata["services"] = services


async def entrypoint(ctx: JobContext) -> None:
    """One dispatched room: wait for the user it belongs to, then talk with them."""
    from livekit.agents import AutoSubscribe
    from livekit.agents.voice.room_io import RoomOptions

    from agent.dialogue.voice import VoiceResponder
    from speech.livekit.session import LifeOSAgent, voice_session

    services: Services = ctx.proc.userdata["services"]
    ctx.add_shutdown_callback(services.close)
    owner = room_owner(ctx.job.room.name)
    if owner is None:
        log.warning("dispatched to a room that is not one of ours; leaving it")
        ctx.shutdown(reason="not a Life OS room")
        return
    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    participant = await ctx.wait_for_participant(identity=identity_of(owner))
    user_id = await _user_of(services, ctx.room.name, participant)
    if user_id is None:
        ctx.shutdown(reason="participant refused")
        return
    whisper, piper, _phrases = await services.voice_models()
    assert services.assistant is not None
    responder = VoiceResponder(services.assistant, user_id, channel="livekit")
    session = voice_session(whisper, piper, responder)
    await session.start(
        LifeOSAgent(),
        room=ctx.room,
        room_options=RoomOptions(participant_identity=participant.identity),
        record=False,
    )


def room_owner(room: str) -> uuid.UUID | None:
    """The user a room is named after (`agent.rooms.room_of`), or None."""
    if not room.startswith(IDENTITY_PREFIX):
        return None
    try:
        return uuid.UUID(room[len(IDENTITY_PREFIX) :][:36])
    except ValueError:
        return None


async def _user_of(
    services: Services, room: str, participant: rtc.RemoteParticipant
) -> uuid.UUID | None:
    """The participant's user, when its note is ours and the user still exists."""
    from store.models import User

    try:
        user_id = participant_user(
            services.tokens, room, participant.identity, participant.metadata
        )
    except TokenError as exc:
        log.warning("refused a participant: %s", exc)
        return None
    async with services.sessions() as db:
        if await db.get(User, user_id) is None:
            log.warning("refused a participant: its user no longer exists")
            return None
    return user_id
