"""The speech models, loaded once for the whole test run."""

from __future__ import annotations

import pytest

from speech.stt import WhisperSTT
from speech.tts import PiperTTS


@pytest.fixture(scope="session")
def piper() -> PiperTTS:
    return PiperTTS()


@pytest.fixture(scope="session")
def whisper() -> WhisperSTT:
    return WhisperSTT("tiny.en")
