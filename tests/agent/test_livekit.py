"""The LiveKit agent without a LiveKit server: an AgentSession of our engines, run
in-process, in text and in audio, with the same effects as the voice socket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from livekit.agents.voice.transcription.synchronizer import TranscriptSynchronizer
from sqlmodel import select

from agent.dialogue.replies import HELP
from agent.dialogue.voice import VoiceResponder
from agent.services import Services
from speech.audio import Audio, read_wav, write_wav
from speech.livekit.session import LifeOSAgent, voice_session
from store.models import ConversationTurn, User
from tests.agent.livekit_io import KeptOutput, RecordingInput

AEC_WARMUP = 3.0  # livekit-agents' default, kept: WebRTC echo cancellation settles in it


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


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the store's part: test_voice
async def test_talking_over_a_reply_stops_it_and_keeps_only_what_was_heard(
    services: Services,
    responder: VoiceResponder,
    voice_models: tuple,
    client: httpx.AsyncClient,
    auth: dict,
) -> None:
    whisper, piper, _phrases = voice_models
    command = piper.synthesize_now("Add stamps to my shopping list.", steady=True).resampled(16000)
    quiet = bytes(16000 // 2 * 2)  # 0.5 s
    output = KeptOutput(realtime=True)
    microphone = RecordingInput(Audio(b"", 16000))  # quiet until it talks over the reply
    # livekit-agents ignores speech over the first AEC_WARMUP seconds of its first reply
    microphone.then(output.after(AEC_WARMUP + 0.3), Audio(command.pcm + quiet * 3, 16000))
    # as a room's output is: the words shown follow the audio played
    synced = TranscriptSynchronizer(next_in_chain_audio=output, next_in_chain_text=None)
    answers: asyncio.Queue[object] = asyncio.Queue()
    try:
        async with voice_session(whisper, piper, responder) as session:
            session.on("conversation_item_added", lambda e: answers.put_nowait(e.item))
            session.input.audio = microphone
            session.output.audio = synced.audio_output
            session.output.transcription = synced.text_output
            await session.start(LifeOSAgent(), record=False)
            asked = session.run(user_input="what can you do")  # typed: the reply is spoken
            await asyncio.wait_for(output.replies.get(), timeout=60)  # the cut reply
            await asked
            output.realtime = False  # the answer to the command need not take its time
            while len([m for m in session.history.messages() if m.role == "assistant"]) < 2:
                await asyncio.wait_for(answers.get(), timeout=60)
    finally:
        await synced.aclose()
    said = [m for m in session.history.messages() if m.role == "assistant"]
    assert said[0].interrupted and said[-1].text_content == "Added stamps to your shopping list."
    heard = said[0].text_content or ""
    assert heard and HELP.startswith(heard.rstrip(" .,")) and len(heard) < len(HELP)
    async with services.sessions() as db:
        kept = (
            await db.exec(
                select(ConversationTurn)
                .where(ConversationTurn.role == "assistant")
                .order_by(ConversationTurn.created_at)
            )
        ).all()
    # the unheard rest of the reply is not in the conversation, as on the voice socket
    assert kept[0].text == heard and kept[0].intent["interrupted"] is True
    assert kept[-1].text == "Added stamps to your shopping list."
    tasks = (await client.get("/v1/tasks", headers=auth, params={"list": "shopping"})).json()
    assert [t["title"] for t in tasks] == ["stamps"]
