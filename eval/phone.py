"""The phone path measured: Twilio Media Streams against the web voice socket, and
our Media Streams serializer against pipecat's TwilioFrameSerializer.

Latency, per utterance, as a caller hears it: from the last sample of speech sent to
the first reply audio received, for the corpus's 8 kHz phone clips streamed in real
time — once through the web socket (μ-law, 8 kHz) and once as Twilio does it (signed
webhook, Media Streams JSON), alternating, in one process, so the two share the
machine's load. Serializers: time per 20 ms frame in (JSON → PCM) and per 40 ms
chunk out (PCM → JSON), whether the μ-law bytes agree, and how many of the 65,536
16-bit samples each encodes differently from ITU-T G.191's reference encoder.

    uv run --frozen python -m eval.phone [--count 8] [--serializers] [--out eval-results/phone.json]

Ours against the stock pipecat Twilio bot is part of `lifeos eval latency` (its phone
table; `against_stock` below), where the servers run as their own processes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import statistics
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from pipecat.audio.utils import create_stream_resampler, pcm_to_ulaw
from pipecat.frames.frames import OutputAudioRawFrame
from pipecat.serializers.twilio import TwilioFrameSerializer
from sqlmodel import col, select
from websockets.asyncio.client import connect

from agent.app import create_app
from agent.call import _with_telephony
from agent.loopback import loopback
from agent.phone_call import FRAME, TwilioCall
from eval.corpus import Clip, Script, build, clip
from eval.local import service_with_user
from eval.report import summarize_phone
from speech.audio import mulaw_encode
from store.database import READ_ONLY, create_engine, session_factory, session_scope
from store.models import ConversationTurn, User
from store.models.base import utcnow
from telephony.media import TwilioMediaProtocol

PHONE = "+14155550123"
TAIL = 2.0  # seconds of silence after the speech: the turn must end on its own
SETTLE = 0.5  # seconds between calls: the last bot's pipeline winds down
HEARD_WAIT = 3.0  # seconds a turn's transcript may take to reach the conversation log


@dataclass
class PhoneClip:
    name: str
    text: str  # what is said in it
    sound: Clip  # 8 kHz


def phone_clips(scripts: list[Script], count: int | None = None) -> list[PhoneClip]:
    """The corpus's one-turn scripts spoken down a phone line (8 kHz), with TAIL
    seconds of line silence after the words."""
    chosen = [s for s in scripts if s.phone and len(s.turns) == 1][:count]
    return [
        PhoneClip(s.id, s.turns[0].text, clip(s.turns[0], phone=True, tail=TAIL, seed=n))
        for n, s in enumerate(chosen)
    ]


async def web_turn(url: str, token: str, sample: Clip) -> float | None:
    """Seconds from the last speech sample sent to the first reply audio, over /v1/voice."""
    mulaw = mulaw_encode(sample.pcm)
    end = sample.speech_end
    address = url.replace("http", "ws", 1) + f"/v1/voice?token={token}&rate=8000&encoding=mulaw"
    async with connect(address, max_size=None) as socket:
        await socket.recv()  # ready
        spoke_until: float | None = None
        first: asyncio.Future[float] = asyncio.get_running_loop().create_future()

        async def listen() -> None:
            async for message in socket:
                if isinstance(message, bytes) and not first.done():
                    first.set_result(time.perf_counter())

        listening = asyncio.create_task(listen())
        start = time.perf_counter()
        for n, i in enumerate(range(0, len(mulaw), FRAME)):
            await asyncio.sleep(max(0.0, start + n * 0.02 - time.perf_counter()))
            await socket.send(mulaw[i : i + FRAME])
            if spoke_until is None and i + FRAME > end:
                spoke_until = time.perf_counter()
        try:
            heard = await asyncio.wait_for(first, 60)
        except TimeoutError:
            return None
        finally:
            listening.cancel()
    return heard - (spoke_until or heard)


async def phone_turn(url: str, token: str, sample: Clip, caller: str = PHONE) -> float | None:
    """The same, as Twilio calls: the signed webhook, then Media Streams."""
    pcm = sample.pcm
    cut = (sample.speech_end + 1) * 2
    async with TwilioCall(url, url, token, caller) as call:
        await call.say(pcm[:cut])
        spoke_until = call.last_sent
        rest = asyncio.create_task(call.say(pcm[cut:]))
        try:
            await asyncio.wait_for(call.reply_started.wait(), 60)
        except TimeoutError:
            return None
        finally:
            rest.cancel()
        assert call.played.first_audio is not None
        return call.played.first_audio - spoke_until


async def latency(count: int) -> dict[str, Any]:
    clips = phone_clips(build(), count)
    async with service_with_user(None) as (services, user):
        async with session_scope(services.sessions) as db:
            row = await db.get(User, user.id)
            assert row is not None
            row.phone = PHONE
        await services.warm_up()
        app = create_app(services=services)
        token = services.tokens.issue(user.id)
        async with loopback(app) as url:
            auth = _with_telephony(services, url)
            app.state.telephony = services.telephony
            rows = []
            for each in clips:
                web = await web_turn(url, token, each.sound)
                phone = await phone_turn(url, auth, each.sound)
                rows.append({"clip": each.name, "web_ms": _ms(web), "phone_ms": _ms(phone)})
                print(f"{each.name}: web {_ms(web)} ms, phone {_ms(phone)} ms", flush=True)
    return {"turns": rows, **_summary(rows)}


@dataclass
class PhoneServer:
    """A server answering Twilio's voice webhook and Media Streams on a loopback port."""

    name: str
    url: str
    auth_token: str  # signs the webhook and the stream (the stock bot checks neither)
    database: str  # its database: what it heard is read from its conversation log


async def against_stock(
    servers: list[PhoneServer], clips: list[PhoneClip], progress: Any = None
) -> dict[str, Any]:
    """Each clip, as a call to each server in turn (who goes first rotates clip by
    clip), so that all share the machine's load; per server the latency from the last
    speech sample to the first reply audio, the turns answered, and what it heard.
    The first server is ours: the others' figures are divided into its own."""
    engines = {s.name: create_engine(s.database) for s in servers}
    rows: dict[str, list[dict[str, Any]]] = {s.name: [] for s in servers}
    try:
        for n, each in enumerate(clips):
            for server in servers[n % len(servers) :] + servers[: n % len(servers)]:
                since = utcnow()
                seconds = await phone_turn(server.url, server.auth_token, each.sound)
                heard = await _heard(engines[server.name], since)
                rows[server.name].append(
                    {
                        "clip": each.name,
                        "said": each.text,
                        "latency_ms": _ms(seconds),
                        "heard": heard,
                    }
                )
                await asyncio.sleep(SETTLE)
            if progress is not None:
                progress()
    finally:
        for engine in engines.values():
            await engine.dispose()
    return {"clips": len(clips), **summarize_phone(rows), "turns": rows}


async def _heard(engine: Any, since: datetime) -> str | None:
    """What the caller was heard saying on the call that began at `since`: the user's
    turns in the server's conversation log (None if nothing came in time)."""
    deadline = time.perf_counter() + HEARD_WAIT
    while True:
        async with session_scope(session_factory(engine)) as db:
            # A reader's snapshot: never the write lock the server's own writes queue for.
            await db.connection(execution_options={READ_ONLY: True})
            rows = (
                await db.exec(
                    select(ConversationTurn.text)
                    .where(ConversationTurn.role == "user")
                    .where(col(ConversationTurn.created_at) >= since)
                    .order_by(col(ConversationTurn.created_at))
                )
            ).all()
        if rows or time.perf_counter() > deadline:
            return " ".join(rows) if rows else None
        await asyncio.sleep(0.1)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    both = [r for r in rows if r["web_ms"] is not None and r["phone_ms"] is not None]
    out: dict[str, Any] = {"answered_both": len(both), "utterances": len(rows)}
    for key in ("web_ms", "phone_ms"):
        values = sorted(r[key] for r in both)
        if values:
            out[key] = {
                "p50": statistics.median(values),
                "p95": values[min(len(values) - 1, round(0.95 * (len(values) - 1)))],
            }
    if both:
        out["phone_over_web_p50"] = round(
            statistics.median(r["phone_ms"] / r["web_ms"] for r in both), 3
        )
    return out


async def serializers(frames: int = 3000, rounds: int = 7) -> dict[str, Any]:
    """Ours against pipecat's, on the same μ-law frames and PCM chunks."""
    rng = np.random.default_rng(7)
    pcm = (rng.normal(0, 3000, frames * 160)).clip(-32768, 32767).astype("<i2").tobytes()
    mulaw = mulaw_encode(pcm)
    messages = [
        json.dumps(
            {
                "event": "media",
                "streamSid": "MZ1",
                "media": {"payload": base64.b64encode(mulaw[i : i + 160]).decode()},
            }
        )
        for i in range(0, len(mulaw), 160)
    ]
    chunks = [
        OutputAudioRawFrame(audio=pcm[i : i + 640], sample_rate=8000, num_channels=1)
        for i in range(0, len(pcm), 640)
    ]
    ours = TwilioMediaProtocol("MZ1")
    theirs = TwilioFrameSerializer(
        "MZ1", params=TwilioFrameSerializer.InputParams(auto_hang_up=False)
    )
    # Its setup reads only the pipeline's input rate: ours runs its input at 8 kHz.
    await theirs.setup(SimpleNamespace(audio_in_sample_rate=8000))  # type: ignore[arg-type]
    pair = (("ours", ours), ("pipecat", theirs))
    timed: dict[str, dict[str, list[float]]] = {name: {"in": [], "out": []} for name, _ in pair}
    # Rounds alternate between the two, with the collector off while timing, so
    # neither pays for the other's garbage or for going first; the median round counts.
    for _round in range(rounds):
        for name, serializer in pair:
            gc.collect()
            gc.disable()
            try:
                started = time.perf_counter()
                for message in messages:
                    await serializer.deserialize(message)
                timed[name]["in"].append((time.perf_counter() - started) / len(messages))
                started = time.perf_counter()
                for chunk in chunks:
                    await serializer.serialize(chunk)
                timed[name]["out"].append((time.perf_counter() - started) / len(chunks))
            finally:
                gc.enable()
    result: dict[str, Any] = {}
    for name, serializer in pair:
        decoded = [await serializer.deserialize(m) for m in messages]
        encoded = [await serializer.serialize(c) for c in chunks]
        result[name] = {
            "in_us_per_20ms": round(statistics.median(timed[name]["in"]) * 1e6, 2),
            "out_us_per_40ms": round(statistics.median(timed[name]["out"]) * 1e6, 2),
            "pcm_in": b"".join(getattr(d, "audio", b"") for d in decoded),
            "mulaw_out": b"".join(
                base64.b64decode(json.loads(e)["media"]["payload"]) for e in encoded if e
            ),
        }
    same_out = result["ours"]["mulaw_out"] == result["pipecat"]["mulaw_out"]
    a = np.frombuffer(result["ours"]["pcm_in"], "<i2").astype(int)
    b = np.frombuffer(result["pipecat"]["pcm_in"], "<i2").astype(int)
    for name in ("ours", "pipecat"):
        del result[name]["pcm_in"], result[name]["mulaw_out"]
    result["same_mulaw_out"] = same_out
    # Every 16-bit sample, encoded by each, against G.191's reference encoder.
    every = np.arange(-32768, 32768, dtype="<i2").tobytes()
    reference = bytes(g191_ulaw(int(x)) for x in np.frombuffer(every, "<i2"))
    coded = {
        "ours": mulaw_encode(every),
        "pipecat": await pcm_to_ulaw(every, 8000, 8000, create_stream_resampler()),
    }
    for name, codes in coded.items():
        result[name]["g191_differing_samples"] = sum(
            got != want for got, want in zip(codes, reference, strict=True)
        )
    result["pcm_in_max_difference"] = int(np.abs(a - b).max()) if len(a) == len(b) else None
    return result


def g191_ulaw(sample: int) -> int:
    """The μ-law code of one 16-bit sample, transcribed from ITU-T G.191's reference
    `ulaw_compress` (its software tools' g711.c): the reference any encoder is
    checked against, one sample at a time."""
    magnitude = min(((~sample if sample < 0 else sample) >> 2) + 33, 0x1FFF)
    segment, rest = 1, magnitude >> 6
    while rest:
        segment, rest = segment + 1, rest >> 1
    code = ((8 - segment) << 4) | (0x0F - ((magnitude >> segment) & 0x0F))
    return code | 0x80 if sample >= 0 else code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.phone", description=__doc__)
    parser.add_argument("--count", type=int, default=8, help="phone clips from the corpus")
    parser.add_argument("--out", type=Path, default=Path("eval-results/phone.json"))
    parser.add_argument(
        "--serializers", action="store_true", help="only the serializers (seconds, not minutes)"
    )
    args = parser.parse_args(argv)
    report = {"serializers": asyncio.run(serializers())}
    if not args.serializers:
        report["latency"] = asyncio.run(latency(args.count))
        print(json.dumps({k: v for k, v in report["latency"].items() if k != "turns"}, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report["serializers"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
