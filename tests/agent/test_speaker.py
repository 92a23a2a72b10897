"""`lifeos speaker`: the device, against the real service on a loopback port.

The service runs in this process (the run's models, either database); the speaker
runs as the user runs it, `lifeos speaker --input … --output …`, as a process of its
own, except where a test has to act between two recordings (restarting the service).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from agent.app import create_app
from agent.reminders.scheduler import Scheduler
from agent.services import Services
from speech.audio import Audio, read_wav, write_wav
from speech.speaker import Speaker
from speech.speaker_files import WavFolder, file_frames
from speech.stt import WhisperSTT
from speech.tts import PiperTTS
from speech.wake import WakeWord
from tests.agent.test_cli import LIFEOS, Result
from tests.local_server import free_port, serve


class CountingFrames:
    """The real app, with a count of what reached it over the voice socket."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.connections = 0
        self.audio_frames = 0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        self.connections += 1

        async def counted() -> dict:
            message = await receive()
            if message["type"] == "websocket.receive" and message.get("bytes"):
                self.audio_frames += 1
            return message

        return await self.app(scope, counted, send)


@dataclass
class Service:
    url: str
    token: str
    counted: CountingFrames
    auth: dict[str, str]


@pytest.fixture
async def service(services: Services, voice_models: tuple, auth: dict) -> AsyncIterator[Service]:
    services._voice = voice_models  # the run's models, not a second copy
    counted = CountingFrames(create_app(services=services))
    async with serve(counted) as url:
        yield Service(url, auth["Authorization"].split()[1], counted, auth)


def recording(piper: PiperTTS, *parts: str) -> Audio:
    """Piper saying each part, with the short pause a person leaves after the wake
    word (while the listening sound plays), room-quiet before and after."""
    pause = bytes(int(16000 * 0.6) * 2)
    pcm = pause
    for part in parts:
        pcm += piper.synthesize_now(part, steady=True).resampled(16000).pcm + pause
    return Audio(pcm, 16000)


async def speaker(service: Service, tmp_path: Path, *inputs: Audio, **options: str) -> Result:
    args = ["speaker", "--server", service.url, "--token", service.token]
    for i, audio in enumerate(inputs):
        path = tmp_path / f"input-{i}.wav"
        path.write_bytes(write_wav(audio))
        args += ["--input", str(path)]
    args += ["--output", str(tmp_path / "replies")]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", value]
    process = await asyncio.create_subprocess_exec(
        LIFEOS, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return Result(process.returncode or 0, out.decode(), err.decode())


async def shopping(service: Service) -> list[str]:
    async with httpx.AsyncClient(base_url=service.url, headers=service.auth) as client:
        tasks = await client.get("/v1/tasks", params={"list": "shopping"})
    return [t["title"] for t in tasks.json()]


async def test_okay_nabu_then_a_command_is_done_and_the_answer_heard(
    service: Service, tmp_path: Path, piper: PiperTTS, whisper: WhisperSTT
) -> None:
    said = recording(piper, "Okay, Nabu.", "Add batteries to my shopping list.")

    ran = await speaker(service, tmp_path, said)

    assert ran.code == 0, ran.err
    assert "said:  Added batteries to your shopping list." in ran.out
    assert await shopping(service) == ["batteries"]
    reply = read_wav((tmp_path / "replies" / "reply-001.wav").read_bytes())
    assert reply.seconds > 0.8
    heard_back = (await whisper.transcribe(reply)).text.lower()
    assert "batteries" in heard_back and "shopping list" in heard_back


async def test_without_the_wake_word_nothing_reaches_the_service(
    service: Service, tmp_path: Path, piper: PiperTTS
) -> None:
    said = recording(piper, "Add batteries to my shopping list.", "Okay, now buy some nails.")

    ran = await speaker(service, tmp_path, said)

    assert ran.code == 0, ran.err
    assert "nothing was sent" in ran.out
    assert service.counted.connections == 1  # open, so that reminders can be spoken
    assert service.counted.audio_frames == 0  # but not one frame of audio went
    assert await shopping(service) == []
    assert not (tmp_path / "replies").exists()


async def test_a_question_is_answered_without_the_wake_word_again(
    service: Service, tmp_path: Path, piper: PiperTTS
) -> None:
    asked = recording(piper, "Okay, Nabu.", "Remind me to call mom.")
    answer = recording(piper, "Tomorrow at six.")  # no wake word: the speaker is still open
    after = recording(piper, "Add nails to my shopping list.")  # the microphone closed again

    ran = await speaker(service, tmp_path, asked, answer, after)

    assert ran.code == 0, ran.err
    assert "said:  When should I remind you?" in ran.out
    assert "said:  Okay, I'll remind you to call mom tomorrow at 6" in ran.out
    assert "nails" not in ran.out and await shopping(service) == []
    assert sorted(p.name for p in (tmp_path / "replies").iterdir()) == [
        "reply-001.wav",
        "reply-002.wav",
    ]


async def test_bad_token_and_bad_recording_are_one_clear_line(
    service: Service, tmp_path: Path, piper: PiperTTS
) -> None:
    refused = await speaker(
        Service(service.url, "nope", service.counted, {}), tmp_path, recording(piper, "Hi.")
    )
    assert refused.code == 2
    assert "refused the speaker: token is malformed" in refused.err
    assert "Traceback" not in refused.err
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio")
    bad = await asyncio.create_subprocess_exec(
        LIFEOS,
        "speaker",
        "--server",
        service.url,
        "--token",
        service.token,
        "--input",
        str(notes),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await bad.communicate()
    assert bad.returncode == 2
    assert "not a WAV file I can read" in err.decode() and "Traceback" not in err.decode()


async def test_the_speaker_reconnects_when_the_service_restarts(
    services: Services, voice_models: tuple, auth: dict, tmp_path: Path, piper: PiperTTS
) -> None:
    services._voice = voice_models
    app = create_app(services=services)
    port = free_port()
    token = auth["Authorization"].split()[1]
    lines: list[str] = []
    device = Speaker(
        f"ws://127.0.0.1:{port}/v1/voice?token={token}",
        WakeWord(),
        WavFolder(tmp_path / "replies"),
        say=lines.append,
    )
    command = recording(piper, "Okay, Nabu.", "Add batteries to my shopping list.")

    async def restarted_then_spoken() -> AsyncIterator[bytes]:
        async with serve(app, port=port):
            await device.connected()
        # The service is down: the speaker keeps trying until it is back.
        await asyncio.sleep(1.0)
        assert device.counters.connections == 1
        async with serve(app, port=port) as url:
            async for frame in file_frames([command], device):
                yield frame
            await device.settled()
            async with httpx.AsyncClient(base_url=url, headers=auth) as client:
                listed = await client.get("/v1/tasks", params={"list": "shopping"})
            assert [t["title"] for t in listed.json()] == ["batteries"]

    await asyncio.wait_for(device.run(restarted_then_spoken()), timeout=60)
    assert device.counters.connections == 2
    assert "said:  Added batteries to your shopping list." in lines


async def test_a_reminder_is_spoken_and_answered_without_the_wake_word(
    services: Services, voice_models: tuple, auth: dict, tmp_path: Path, piper: PiperTTS
) -> None:
    services._voice = voice_models
    services.scheduler = Scheduler(services.sessions, services.channels, interval=0.1)
    app = create_app(services=services)
    token = auth["Authorization"].split()[1]
    lines: list[str] = []
    device = Speaker("", WakeWord(), WavFolder(tmp_path / "replies"), say=lines.append)
    done = recording(piper, "Done.")

    async def reminded_then_answered(client: httpx.AsyncClient) -> AsyncIterator[bytes]:
        await device.connected()
        soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        added = await client.post("/v1/tasks", json={"title": "call mom", "remind_at": soon})
        added.raise_for_status()
        while not device.counters.replies:  # the microphone stays closed meanwhile
            yield bytes(640)
            await asyncio.sleep(0.02)
        async for frame in file_frames([done], device):
            yield frame

    async with app.router.lifespan_context(app), serve(app) as url:
        device.url = url.replace("http://", "ws://") + f"/v1/voice?token={token}"
        async with httpx.AsyncClient(base_url=url, headers=auth) as client:
            await asyncio.wait_for(device.run(reminded_then_answered(client)), timeout=60)
    assert "said:  Reminder: call mom." in lines
    assert "said:  Marked call mom as done." in lines
    assert device.counters.wakes == 0
    assert len(list((tmp_path / "replies").iterdir())) == 2


def test_the_wake_word_is_heard_once_and_silence_never_wakes(piper: PiperTTS) -> None:
    wake = WakeWord()
    said = recording(piper, "Okay, Nabu.", "What's on my calendar?").pcm
    noise = (np.random.default_rng(1).standard_normal(16000 * 5) * 300).astype("<i2").tobytes()
    frames = [said[i : i + 640] for i in range(0, len(said), 640)]
    assert sum(wake.feed(f) for f in frames) == 1
    assert not any(wake.feed(noise[i : i + 640]) for i in range(0, len(noise), 640))


async def test_speaking_over_the_reply_stops_it_and_is_answered(
    service: Service, tmp_path: Path, piper: PiperTTS
) -> None:
    async with httpx.AsyncClient(base_url=service.url, headers=service.auth) as client:
        for item in ("apples", "bread", "coffee", "dish soap", "eggs", "flour", "grapes"):
            added = await client.post("/v1/tasks", json={"title": item, "list": "shopping"})
            assert added.status_code == 201, added.text
    lines: list[str] = []
    device = Speaker(
        service.url.replace("http://", "ws://") + f"/v1/voice?token={service.token}",
        WakeWord(),
        WavFolder(tmp_path / "replies"),
        say=lines.append,
    )
    asked = recording(piper, "Okay, Nabu.", "What's on my shopping list?")
    over = recording(piper, "Add nails to my shopping list.").pcm + bytes(16000 * 2 * 2)

    async def talked_over() -> AsyncIterator[bytes]:
        async for frame in file_frames([asked], device):
            yield frame
        while device.replying is None or device.replying.seconds < 0.6:
            yield bytes(640)  # the room, while the long answer starts
            await asyncio.sleep(0.02)
        for i in range(0, len(over), 640):  # the user talks over it, as a person does
            yield over[i : i + 640]
            await asyncio.sleep(0.02)

    await asyncio.wait_for(device.run(talked_over()), timeout=60)
    first, *_rest, last = device.counters.replies
    assert first.text.startswith("You have") and first.interrupted  # cut off as heard
    assert last.text == "Added nails to your shopping list."
    assert "nails" in await shopping(service)


async def test_with_barge_in_by_wake_word_only_the_wake_word_cuts_a_reply(
    service: Service, tmp_path: Path, piper: PiperTTS
) -> None:
    """For a device without echo cancellation, which hears its own replies."""
    lines: list[str] = []
    async with httpx.AsyncClient(base_url=service.url, headers=service.auth) as client:
        for item in ("apples", "bread", "coffee", "dish soap", "eggs", "flour", "grapes"):
            added = await client.post("/v1/tasks", json={"title": item, "list": "shopping"})
            assert added.status_code == 201, added.text
    device = Speaker(
        service.url.replace("http://", "ws://") + f"/v1/voice?token={service.token}",
        WakeWord(),
        WavFolder(tmp_path / "replies"),
        barge_in="wake",
        say=lines.append,
    )
    asked = recording(piper, "Okay, Nabu.", "What's on my shopping list?")
    plain = recording(piper, "Add nails to my shopping list.").pcm
    woken = recording(piper, "Okay, Nabu.", "Add glue to my shopping list.").pcm + bytes(64000)

    async def spoken_over(over: bytes) -> AsyncIterator[bytes]:
        async for frame in file_frames([asked], device):
            yield frame
        while device.replying is None or device.replying.seconds < 0.4:
            yield bytes(640)
            await asyncio.sleep(0.02)
        for i in range(0, len(over), 640):
            yield over[i : i + 640]
            await asyncio.sleep(0.02)

    await asyncio.wait_for(device.run(spoken_over(plain)), timeout=60)
    assert not device.counters.replies[0].interrupted  # the reply played out
    assert "nails" not in await shopping(service)

    await asyncio.wait_for(device.run(spoken_over(woken)), timeout=60)
    cut, *_rest, last = device.counters.replies[1:]
    assert cut.interrupted
    assert not last.interrupted  # the command after the wake word was answered
    heard = [line.lower() for line in lines if line.startswith("heard:")]
    # The command after the wake word reached the service, and the wake word did not.
    # (Which words the service makes of it is the pipeline's: on a busy machine its own
    # barge-in has once clipped the first words, and the reply was a check-back.)
    assert any("shopping list" in line for line in heard[2:]), lines  # after both questions
    assert not any("nabu" in line for line in heard)
