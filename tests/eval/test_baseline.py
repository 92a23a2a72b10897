"""The stock pipecat baseline loads Whisper and Piper once per process, as ours does:
every connection's pipecat services use the same loaded models, and still hear and
speak. Its Twilio bot answers a call."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
from pipecat.frames.frames import TranscriptionFrame
from pipecat.services.whisper.stt import WhisperSTTService

from eval.baseline import Models, SharedPiperTTS, SharedWhisperSTT
from eval.corpus import Turn, clip
from eval.latency import BASELINE, _account, _free_port, _server
from eval.phone import PHONE, TAIL, PhoneClip, PhoneServer, against_stock
from eval.report import phone_markdown
from speech.audio import Audio
from store.database import sqlite_url


@pytest.fixture(scope="module")
def models() -> Models:
    return Models("tiny.en")


def _connection(models: Models) -> tuple[SharedWhisperSTT, SharedPiperTTS]:
    settings = WhisperSTTService.Settings(model=models.whisper_path)
    stt = SharedWhisperSTT(models.whisper, device="cpu", settings=settings)
    return stt, SharedPiperTTS(models.voice, models.voice_name)


def test_connections_share_the_process_models(models: Models) -> None:
    (stt_a, tts_a), (stt_b, tts_b) = _connection(models), _connection(models)
    assert stt_a._model is stt_b._model is models.whisper
    assert tts_a._voice is tts_b._voice is models.voice
    assert tts_a._settings.voice == "en_US-joe-medium"


async def test_a_connection_hears_speech_with_the_shared_model(models: Models) -> None:
    said = np.concatenate(
        [chunk.audio_float_array for chunk in models.voice.synthesize("Add milk to my list.")]
    )
    rate = models.voice.config.sample_rate
    pcm = Audio((said * 32767).astype("<i2").tobytes(), rate).resampled(16000).pcm
    stt, _tts = _connection(models)
    frames = [frame async for frame in stt.run_stt(pcm)]
    heard = " ".join(f.text for f in frames if isinstance(f, TranscriptionFrame)).lower()
    assert "milk" in heard and "list" in heard


@pytest.mark.skipif(shutil.which("lifeos") is None, reason="the lifeos command is not installed")
async def test_the_stock_twilio_bot_answers_a_call(tmp_path: Path) -> None:
    """The stock pipecat Twilio bot, as the harness starts it, answers a phone clip
    called in as Twilio does (voice webhook, then Media Streams with line audio in
    real time), hears it, and does it; the harness's phone table reports it."""
    env = {k: v for k, v in os.environ.items() if k != "LIFEOS_DATABASE_URL"}
    env["LIFEOS_DATA_DIR"] = str(tmp_path)
    token = _account(env, PHONE)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    said = Turn("Add a task to call the dentist.", "add_task")
    call = PhoneClip("dentist", said.text, clip(said, phone=True, tail=TAIL, seed=0))
    assert call.sound.rate == 8000
    async with _server([*BASELINE, "--port", str(port)], env, port):
        server = PhoneServer("stock pipecat", url, "unchecked", sqlite_url(tmp_path / "lifeos.db"))
        result = await against_stock([server], [call])
        async with httpx.AsyncClient(base_url=url) as client:
            listed = await client.get("/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    [turn] = result["turns"]["stock pipecat"]
    assert turn["latency_ms"] is not None and turn["latency_ms"] > 0, turn
    assert "dentist" in (turn["heard"] or "").lower(), turn
    assert any("dentist" in t["title"].lower() for t in listed.json())
    summary = result["paths"]["stock pipecat"]
    assert summary["answered"] == 1 and summary["latency_ms"]["p50"] == turn["latency_ms"]
    assert "| turns answered | 1 of 1 |" in phone_markdown({**result, "clips": 1})
