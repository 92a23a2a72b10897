"""The phone path measured: Twilio Media Streams against the web voice socket, and
our Media Streams serializer against pipecat's TwilioFrameSerializer.

Latency, per utterance, as a caller hears it: from the last sample of speech sent to
the first reply audio received, for the corpus's 8 kHz phone clips streamed in real
time — once through the web socket (μ-law, 8 kHz) and once as Twilio does it (signed
webhook, Media Streams JSON), alternating, in one process, so the two share the
machine's load. Serializers: time per 20 ms frame in (JSON → PCM) and per 40 ms
chunk out (PCM → JSON), and whether the μ-law bytes agree.

    uv run --frozen python -m eval.phone [--count 8] [--out eval-results/phone.json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from pipecat.frames.frames import OutputAudioRawFrame
from pipecat.serializers.twilio import TwilioFrameSerializer
from websockets.asyncio.client import connect

from agent.app import create_app
from agent.call import _with_telephony
from agent.loopback import loopback
from agent.phone_call import FRAME, TwilioCall
from eval.corpus import Clip, build, clip
from eval.local import service_with_user
from speech.audio import mulaw_encode
from store.database import session_scope
from store.models import User
from telephony.media import TwilioMediaProtocol

PHONE = "+14155550123"
TAIL = 2.0  # seconds of silence after the speech: the turn must end on its own


def phone_clips(count: int) -> list[tuple[str, Clip]]:
    scripts = [s for s in build() if s.phone and len(s.turns) == 1][:count]
    return [(s.id, clip(s.turns[0], phone=True, tail=TAIL, seed=n)) for n, s in enumerate(scripts)]


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


async def phone_turn(url: str, token: str, sample: Clip) -> float | None:
    """The same, as Twilio calls: the signed webhook, then Media Streams."""
    pcm = sample.pcm
    cut = (sample.speech_end + 1) * 2
    async with TwilioCall(url, url, token, PHONE) as call:
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
    clips = phone_clips(count)
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
            for name, sample in clips:
                web = await web_turn(url, token, sample)
                phone = await phone_turn(url, auth, sample)
                rows.append({"clip": name, "web_ms": _ms(web), "phone_ms": _ms(phone)})
                print(f"{name}: web {_ms(web)} ms, phone {_ms(phone)} ms", flush=True)
    return {"turns": rows, **_summary(rows)}


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


async def serializers(frames: int = 3000) -> dict[str, Any]:
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
    result: dict[str, Any] = {}
    for name, serializer in (("ours", ours), ("pipecat", theirs)):
        started = time.perf_counter()
        decoded = [await serializer.deserialize(m) for m in messages]
        inbound = (time.perf_counter() - started) / len(messages) * 1e6
        started = time.perf_counter()
        encoded = [await serializer.serialize(c) for c in chunks]
        outbound = (time.perf_counter() - started) / len(chunks) * 1e6
        back = b"".join(base64.b64decode(json.loads(e)["media"]["payload"]) for e in encoded if e)
        result[name] = {
            "in_us_per_20ms": round(inbound, 1),
            "out_us_per_40ms": round(outbound, 1),
            "pcm_in": b"".join(getattr(d, "audio", b"") for d in decoded),
            "mulaw_out": back,
        }
    same_out = result["ours"]["mulaw_out"] == result["pipecat"]["mulaw_out"]
    a = np.frombuffer(result["ours"]["pcm_in"], "<i2").astype(int)
    b = np.frombuffer(result["pipecat"]["pcm_in"], "<i2").astype(int)
    for name in ("ours", "pipecat"):
        del result[name]["pcm_in"], result[name]["mulaw_out"]
    result["same_mulaw_out"] = same_out
    result["pcm_in_max_difference"] = int(np.abs(a - b).max()) if len(a) == len(b) else None
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.phone", description=__doc__)
    parser.add_argument("--count", type=int, default=8, help="phone clips from the corpus")
    parser.add_argument("--out", type=Path, default=Path("eval-results/phone.json"))
    args = parser.parse_args(argv)
    report = {
        "serializers": asyncio.run(serializers()),
        "latency": asyncio.run(latency(args.count)),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report["latency"].items() if k != "turns"}, indent=2))
    print(json.dumps(report["serializers"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
