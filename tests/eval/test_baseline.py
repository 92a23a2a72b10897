"""The stock pipecat baseline loads Whisper and Piper once per process, as ours does:
every connection's pipecat services use the same loaded models, and still hear and
speak."""

from __future__ import annotations

import numpy as np
import pytest
from pipecat.frames.frames import TranscriptionFrame
from pipecat.services.whisper.stt import WhisperSTTService

from eval.baseline import Models, SharedPiperTTS, SharedWhisperSTT
from speech.audio import Audio


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
