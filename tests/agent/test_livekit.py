"""The LiveKit agent without a LiveKit server: an AgentSession of our engines, run
in-process, in text and in audio, with the same effects as the voice socket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from agent.dialogue.voice import VoiceResponder
from agent.services import Services
from speech.audio import Audio, read_wav, write_wav
from speech.livekit.session import LifeOSAgent, voice_session
from store.models import User
from tests.agent.livekit_io import KeptOutput, RecordingInput


@pytest.fixture
def responder(services: Services, user: User) -> VoiceResponder:
    assert services.assistant is not None
    return VoiceResponder(services.assistant, user.id, channel="livekit")


async def test_typed_request_runs_the_assistant(
    services: Services,
    responder: VoiceResponder,
    voice_models: tuple,
    client: httpx.AsyncClient,
    auth: dict,
) -> None:
    whisper, piper, _phrases = voice_models
    async with voice_session(whisper, piper, responder) as session:
        await session.start(LifeOSAgent())
        result = await session.run(user_input="add batteries to my shopping list")
        result.expect.next_event().is_message(role="assistant")
    tasks = (await client.get("/v1/tasks", headers=auth, params={"list": "shopping"})).json()
    assert [t["title"] for t in tasks] == ["batteries"]


async def test_spoken_request_through_livekit_audio_io(
    services: Services,
    responder: VoiceResponder,
    voice_models: tuple,
    client: httpx.AsyncClient,
    auth: dict,
    tmp_path: Path,
) -> None:
    whisper, piper, _phrases = voice_models
    command = piper.synthesize_now("Add batteries to my shopping list.", steady=True)
    # a recording as a participant's track carries it: 24 kHz, with room either side
    track = command.resampled(24000)
    silence = bytes(24000 // 2 * 2)  # 0.5 s
    (tmp_path / "command.wav").write_bytes(
        write_wav(Audio(silence + track.pcm + silence * 2, 24000))
    )
    recording = read_wav((tmp_path / "command.wav").read_bytes())
    output = KeptOutput()
    heard: list[str] = []
    async with voice_session(whisper, piper, responder) as session:
        session.on("user_input_transcribed", lambda e: heard.append(e.transcript))
        session.input.audio = RecordingInput(recording)
        session.output.audio = output
        await session.start(LifeOSAgent(), record=False)
        reply = await asyncio.wait_for(output.replies.get(), timeout=60)
    said = [m.text_content for m in session.history.messages() if m.role == "assistant"]
    assert said == ["Added batteries to your shopping list."]
    assert sum(f.duration for f in reply) > 1.0  # the reply was spoken, not only written
    assert "batteries" in " ".join(heard).lower()
    tasks = (await client.get("/v1/tasks", headers=auth, params={"list": "shopping"})).json()
    assert [t["title"] for t in tasks] == ["batteries"]
