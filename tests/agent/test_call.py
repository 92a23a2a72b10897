"""`lifeos call`: a spoken command from a WAV file, over the Twilio protocol, through
the real process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from speech.audio import read_wav, write_wav
from speech.stt import WhisperSTT
from speech.tts import PiperTTS
from tests.agent.test_cli import environment, lifeos


async def test_a_phoned_command_is_done_and_answered(
    tmp_path: Path, piper: PiperTTS, whisper: WhisperSTT
) -> None:
    env = environment(tmp_path)
    await lifeos(env, "db", "upgrade")
    await lifeos(env, "user", "create", "--email", "ann@example.com", "--phone", "+14155550123")
    no_phone = await lifeos(env, "call", "x.wav")
    assert no_phone.code == 2 and "x.wav" in no_phone.err
    command = tmp_path / "command.wav"
    said = piper.synthesize_now("Add milk to my shopping list.", steady=True).resampled(8000)
    command.write_bytes(write_wav(said))
    reply_file = tmp_path / "reply.wav"

    called = await lifeos(
        env, "call", str(command), "--out", str(reply_file), "--from", "+1 415 555 0123"
    )
    assert called.code == 0, called.err
    assert "said:  Added milk to your shopping list." in called.out
    assert "ms after the recording ended" in called.err
    reply = read_wav(reply_file.read_bytes())
    assert reply.rate == 8000 and reply.seconds > 0.5  # phone audio, as played
    heard_back = (await whisper.transcribe(reply.resampled(16000))).text.lower()
    assert "milk" in heard_back
    listed = await lifeos(env, "say", "what's on my shopping list", "--email", "ann@example.com")
    assert "milk" in listed.out.lower()

    # Another number is not the user's: it is refused, politely, and nothing is done.
    stranger = await lifeos(env, "call", str(command), "--from", "+14155550999")
    assert stranger.code == 0 and "isn't linked to a Life OS account" in stranger.out
    bad = await lifeos(env, "call", str(command), "--from", "12345")
    assert bad.code == 2 and "--from" in bad.err


async def test_user_pin_sets_a_hashed_pin(tmp_path: Path) -> None:
    env = environment(tmp_path)
    await lifeos(env, "db", "upgrade")
    await lifeos(env, "user", "create", "--email", "ann@example.com")
    short = await lifeos(env, "user", "pin", "ann@example.com", "--pin", "12")
    assert short.code == 2 and "4 to 8 digits" in short.err
    nobody = await lifeos(env, "user", "pin", "bob@example.com", "--pin", "2468")
    assert nobody.code == 2 and "no user bob@example.com" in nobody.err
    done = await lifeos(env, "user", "pin", "ann@example.com", "--pin", "2468")
    assert done.code == 0 and "Phone PIN set" in done.out
    with sqlite3.connect(tmp_path / "lifeos.db") as db:
        [(stored,)] = db.execute("SELECT pin_hash FROM phone_pins").fetchall()
    assert stored.startswith("scrypt$") and "2468" not in stored
