"""Voice under load: how many sessions at once (web socket and phone) still answer
with p95 ≤ 1.5 s from the end of speech to the first reply audio, and whether the
memory of one long call levels off.

The service runs in this process on a loopback port, as eval.phone runs it: the
sessions stream the corpus's 8 kHz phone clips in real time (eval.phone.web_turn and
phone_turn), 1, 2, 4, … at once, each repeating clips until the level's time is up.
The long call is one web socket streaming clips faster than real time (the voice
pace limit raised for it), one turn after another, while this process's resident
memory is sampled after each turn.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from agent.app import create_app
from agent.call import _with_telephony
from agent.loopback import loopback
from eval.corpus import Clip, build
from eval.local import service_with_user
from eval.phone import PHONE, phone_clips, phone_turn, web_turn
from eval.stats import percentiles
from speech.audio import mulaw_encode
from store.database import session_scope
from store.models import User, UserCreate
from store.repositories.users import create_user

GOAL_MS = 1500.0
REPLY_WAIT = 30.0  # seconds a long call's turn may wait for its reply to end
UNLIMITED = "1000000/hour"  # every session calls from the one test number
# One session's turn, by a person of their own (a newer voice connection of the same
# person closes the older one, as a second window does): (url, person, clip) → seconds.
Turn = Callable[[str, "Person", Clip], Awaitable[float | None]]


@dataclass(frozen=True)
class Person:
    token: str  # theirs, for the web socket
    phone: str  # theirs, to call from
    auth: str  # the Twilio auth token the calls are signed with


async def _web(url: str, person: Person, clip: Clip) -> float | None:
    return await web_turn(url, person.token, clip)


async def _phone(url: str, person: Person, clip: Clip) -> float | None:
    return await phone_turn(url, person.auth, clip, person.phone)


async def voice_capacity(max_sessions: int, seconds: float) -> dict[str, Any]:
    """Per channel, the levels tried and the most sessions that held the goal."""
    clips = [c.sound for c in phone_clips(build())]
    async with _service(call_limit=UNLIMITED, people=max_sessions) as (url, people):
        result = {}
        for channel, turn in (("web", _web), ("phone", _phone)):
            levels, held = [], 0
            sessions = 1
            while sessions <= max_sessions:
                level = await _level(turn, url, people, clips, sessions, seconds)
                levels.append(level)
                print(f"{channel:<5} {sessions:>3} sessions: {_line(level)}", flush=True)
                if not level["held"]:
                    break
                held, sessions = sessions, sessions * 2
            result[channel] = {"levels": levels, "sessions_held": held}
    return result


async def _level(
    turn: Turn, url: str, people: list[Person], clips: list[Clip], sessions: int, seconds: float
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    lost = 0

    async def session(number: int) -> None:
        nonlocal lost
        n = number
        while True:  # at least one turn each
            took = await turn(url, people[number], clips[n % len(clips)])
            if took is None:
                lost += 1
            else:
                latencies.append(took * 1000)
            n += sessions
            if time.monotonic() >= deadline:
                return

    await asyncio.gather(*(session(n) for n in range(sessions)))
    figures = percentiles(latencies)
    held = lost == 0 and figures["p95"] <= GOAL_MS
    return {"sessions": sessions, "unanswered": lost, "held": held, **figures}


def _line(level: dict[str, Any]) -> str:
    verdict = "held" if level["held"] else "NOT held"
    return (
        f"turns {level['n']:<4} p50 {level['p50']:7.0f} ms  p95 {level['p95']:7.0f} ms  "
        f"unanswered {level['unanswered']}  {verdict}"
    )


async def call_memory(call_minutes: float, speed: float, seconds: float) -> dict[str, Any]:
    """One web-socket call of ``call_minutes`` of caller audio sent at ``speed`` times
    real time (or until ``seconds`` have passed), RSS in MB after each turn."""
    clips = [c.sound for c in phone_clips(build())]
    samples: list[tuple[float, float]] = []  # (call minutes so far, RSS MB)
    async with _service(voice_max_speed=speed * 2, voice_burst_seconds=3600) as (url, [caller]):
        address = url.replace("http", "ws", 1)
        address += f"/v1/voice?token={caller.token}&rate=8000&encoding=mulaw"
        deadline = time.monotonic() + seconds
        sent_seconds, unanswered, n = 0.0, 0, 0
        async with connect(address, max_size=None) as socket:
            await socket.recv()  # ready
            while sent_seconds < call_minutes * 60 and time.monotonic() < deadline:
                sound = clips[n % len(clips)]
                n += 1
                sent_seconds += await _send(socket, sound, speed)
                unanswered += not await _reply_over(socket)
                samples.append((sent_seconds / 60, _rss_mb()))
    return {"speed": speed, "turns": n, "unanswered": unanswered, **_levelling(samples)}


async def _send(socket: Any, sound: Clip, speed: float) -> float:
    """Stream ``sound`` as μ-law at ``speed`` times real time; its length in seconds."""
    frame = int(sound.rate * 0.02)  # 20 ms, as a phone line sends
    mulaw = mulaw_encode(sound.pcm)
    began = time.perf_counter()
    for n, i in enumerate(range(0, len(mulaw), frame)):
        await asyncio.sleep(max(0.0, began + n * 0.02 / speed - time.perf_counter()))
        await socket.send(mulaw[i : i + frame])
    return len(mulaw) / sound.rate


async def _reply_over(socket: Any) -> bool:
    """Wait for the reply's `audio_end` event; False if none came in REPLY_WAIT s."""
    try:
        async with asyncio.timeout(REPLY_WAIT):
            async for message in socket:
                if isinstance(message, str) and json.loads(message).get("type") == "audio_end":
                    return True
    except TimeoutError:
        return False
    return False


def _levelling(samples: list[tuple[float, float]]) -> dict[str, Any]:
    """Memory at the start, middle and end, and its growth per call-hour over each
    half: levelling off means the second half grows much less than the first."""
    if len(samples) < 4:
        return {"samples": samples}
    half = len(samples) // 2
    first, mid, last = samples[0], samples[half], samples[-1]

    def per_hour(a: tuple[float, float], b: tuple[float, float]) -> float:
        return (b[1] - a[1]) / max(b[0] - a[0], 1e-9) * 60

    return {
        "call_minutes": round(last[0], 1),
        "rss_mb": {"first": first[1], "middle": mid[1], "last": last[1]},
        "growth_mb_per_hour": {
            "first_half": round(per_hour(first, mid), 1),
            "second_half": round(per_hour(mid, last), 1),
        },
    }


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


@asynccontextmanager
async def _service(people: int = 1, **settings: Any) -> AsyncIterator[tuple[str, list[Person]]]:
    """The service in this process with its models loaded, on a loopback port, and
    ``people`` users, each with a phone number of their own: (url, them)."""
    async with service_with_user(None, **settings) as (services, user):
        users = [user]
        async with session_scope(services.sessions) as db:
            row = await db.get(User, user.id)
            assert row is not None
            row.phone = PHONE
            for n in range(1, people):
                profile = UserCreate(email=f"load-{n}@example.com", phone=f"+1415555{2000 + n}")
                users.append(await create_user(db, profile))
            phones = [PHONE] + [f"+1415555{2000 + n}" for n in range(1, people)]
        await services.warm_up()
        app = create_app(services=services)
        async with loopback(app) as url:
            auth = _with_telephony(services, url)
            app.state.telephony = services.telephony
            yield (
                url,
                [
                    Person(services.tokens.issue(u.id), phone, auth)
                    for u, phone in zip(users, phones, strict=True)
                ],
            )
