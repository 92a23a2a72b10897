"""`lifeos talk`: a spoken command from a WAV file, through the real process."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from agent import talk
from speech.audio import Audio, read_wav, write_wav
from speech.stt import WhisperSTT
from speech.tts import PiperTTS
from tests.agent.test_cli import environment, lifeos


async def test_a_spoken_command_is_done_and_answered_out_loud(
    tmp_path: Path, piper: PiperTTS, whisper: WhisperSTT
) -> None:
    env = environment(tmp_path)
    await lifeos(env, "db", "upgrade")
    await lifeos(env, "user", "create", "--email", "ann@example.com")
    command = tmp_path / "command.wav"
    command.write_bytes(
        write_wav(
            piper.synthesize_now("Add milk to my shopping list.", steady=True).resampled(16000)
        )
    )
    reply_file = tmp_path / "reply.wav"

    talked = await lifeos(
        env, "talk", str(command), "--out", str(reply_file), "--email", "ann@example.com"
    )
    assert talked.code == 0, talked.err
    assert "said:  Added milk to your shopping list." in talked.out
    reply = read_wav(reply_file.read_bytes())
    assert reply.seconds > 0.5
    heard_back = (await whisper.transcribe(reply)).text.lower()
    assert "milk" in heard_back and "shopping list" in heard_back
    listed = await lifeos(env, "say", "what's on my shopping list", "--email", "ann@example.com")
    assert listed.out.strip() == "You have 1 thing on your shopping list: milk."


async def test_silence_and_bad_files(tmp_path: Path) -> None:
    env = environment(tmp_path)
    await lifeos(env, "db", "upgrade")
    await lifeos(env, "user", "create", "--email", "ann@example.com")
    silence = tmp_path / "silence.wav"
    silence.write_bytes(write_wav(Audio(np.zeros(16000, dtype="<i2").tobytes(), 16000)))
    quiet = await lifeos(
        env, "talk", str(silence), "--out", str(tmp_path / "r.wav"), "--email", "ann@example.com"
    )
    assert "said:  Sorry, I didn't hear anything." in quiet.out
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not audio")
    bad = await lifeos(env, "talk", str(text_file), "--email", "ann@example.com")
    assert bad.code == 2
    assert "not a WAV file I can read" in bad.err and "Traceback" not in bad.err


class Recorder:
    """Stands in for the socket: notes when each frame went."""

    def __init__(self) -> None:
        self.sent: list[float] = []

    async def send(self, frame: bytes) -> None:
        self.sent.append(time.perf_counter())


async def test_a_long_recording_keeps_to_real_time_after_the_allowance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(talk, "AT_ONCE_SECONDS", 0.2)
    socket = Recorder()
    started = time.perf_counter()
    await talk._send(socket, bytes(int(16000 * 2 * 1.0)))  # one second of audio
    offsets = [t - started for t in socket.sent]
    assert len(offsets) == 50  # 20 ms frames
    assert offsets[9] < 0.1  # the first 0.2 s at once
    assert 0.75 <= offsets[-1] < 1.2  # the rest as it would be spoken
