"""Speech engines on real audio: Piper speaks, Whisper listens."""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path

import numpy as np
import pytest

from eval.phone import g191_ulaw
from speech.audio import Audio, AudioError, mulaw_decode, mulaw_encode, read_wav, write_wav
from speech.models import whisper_path
from speech.stt import WhisperSTT
from speech.tts import LONGEST_CLAUSE, PiperTTS, clauses


def words(text: str) -> str:
    # "Mum" and "mom" are one word to a listener; int8 decoding picks either.
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).replace("mum", "mom")


async def test_what_piper_says_whisper_hears(piper: PiperTTS, whisper: WhisperSTT) -> None:
    spoken = piper.synthesize_now("Remind me to call mom tomorrow at six.", steady=True)
    assert spoken.rate == 22050 and 1.0 < spoken.seconds < 4.0
    heard = await whisper.transcribe(spoken)
    assert "call mom tomorrow at 6" in words(heard.text)


async def test_reply_audio_streams_clause_by_clause(piper: PiperTTS) -> None:
    pieces = [audio async for audio in piper.stream("Added milk. You have 3 things on your list.")]
    assert len(pieces) == 2
    assert all(piece.peak() > 0.05 for piece in pieces)  # real sound, not silence


def test_a_long_first_sentence_is_cut_at_its_comma() -> None:
    said = "Okay, I'll remind you to call mom tomorrow at 6 PM. Anything else?"
    assert list(clauses(said)) == [
        "Okay,",
        "I'll remind you to call mom tomorrow at 6 PM.",
        "Anything else?",
    ]
    assert list(clauses("Deleted 3 tasks.")) == ["Deleted 3 tasks."]


def test_a_long_sentence_is_said_in_runs_of_its_comma_parts() -> None:
    said = (
        "Done. You have 5 things today: milk, eggs, bread, call the plumber about the sink, "
        "pay the electricity bill, and book a table for Friday."
    )
    pieces = list(clauses(said))
    assert " ".join(pieces) == said  # nothing lost or reordered
    assert pieces[0] == "Done."
    assert len(pieces) >= 3 and all(len(p.split()) <= LONGEST_CLAUSE for p in pieces)
    assert all(p.endswith((",", ".")) for p in pieces)  # cut only where a pause is natural


def test_resampling_keeps_the_length_in_time() -> None:
    tone = np.sin(np.linspace(0, 440 * 2 * np.pi, 22050)).astype(np.float32) * 0.5
    audio = Audio((tone * 32767).astype("<i2").tobytes(), 22050)
    down = audio.resampled(16000)
    assert down.rate == 16000 and abs(down.seconds - 1.0) < 0.01
    assert 0.45 < down.peak() < 0.55


def test_mulaw_round_trip() -> None:
    ramp = np.linspace(-20000, 20000, 8000).astype("<i2")
    back = np.frombuffer(mulaw_decode(mulaw_encode(ramp.tobytes())), dtype="<i2")
    assert mulaw_encode(np.zeros(1, dtype="<i2").tobytes()) == b"\xff"
    error = np.abs(back.astype(np.int32) - ramp.astype(np.int32))
    assert error.max() < 700  # μ-law keeps ~1 part in 30 at the top of its range


def _wav(
    channels: int = 1, width: int = 2, rate: int = 16000, frames: bytes = b"\x00\x00" * 160
) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return buffer.getvalue()


def test_wav_files_in_and_out() -> None:
    audio = Audio(b"\x10\x00\x20\x00", 8000)
    assert read_wav(write_wav(audio)) == audio
    stereo = read_wav(_wav(channels=2, frames=np.array([100, 300] * 80, dtype="<i2").tobytes()))
    assert set(stereo.samples()) == {200}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a wav file at all", "not a WAV file"),
        (_wav(width=1, frames=b"\x80" * 160), "8-bit samples"),
        (_wav(rate=96000), "96000 Hz is not supported"),
        (_wav()[:30], "not a WAV file"),
    ],
)
def test_bad_audio_is_refused_by_name(data: bytes, message: str) -> None:
    with pytest.raises(AudioError, match=message):
        read_wav(data)


def test_base_model_is_assembled_once_from_its_two_packages(tmp_path: Path) -> None:
    first = whisper_path("base", tmp_path)
    assert (first / "model.bin").stat().st_size > 100_000_000
    assert {p.name for p in first.iterdir()} >= {"model.bin", "config.json", "tokenizer.json"}
    assert whisper_path("base", tmp_path) == first
    with pytest.raises(ValueError, match="unknown Whisper model"):
        whisper_path("large-v3")


def test_a_sentence_whisper_says_twice_is_kept_once() -> None:
    from speech.stt import without_echo

    assert without_echo("What can you do? What can you do?") == "What can you do?"
    assert without_echo("Add milk. Add eggs.") == "Add milk. Add eggs."
    # the copy can come without the full stop
    assert without_echo("Add stamps to my list. Add stamps to my list") == "Add stamps to my list."
    assert without_echo("Add stamps to my list. Add stamps to") == "Add stamps to my list."
    remind = "Remind me to water the plants in two minutes."
    assert without_echo(f"{remind} Remind") == remind  # a restart cut off at its first word
    assert without_echo("Add milk. Add eggs") == "Add milk. Add eggs"  # a second request
    assert without_echo("Add milk, add milk") == "Add milk, add milk"


def test_a_word_whisper_keeps_saying_is_kept_once() -> None:
    """On real one-word answers the short window's usual failure was the word said
    again and again ("Left Left Left", "8 8"): the answer is the word once."""
    from speech.stt import without_stutter

    assert without_stutter("Left Left Left Left") == "Left"
    assert without_stutter("5, 5.") == "5."
    assert without_stutter("No. No.") == "No."
    assert without_stutter("Add milk to my list list list") == "Add milk to my list"
    # a repeat that may be meant stays: mid-sentence, or twice after other words
    assert without_stutter("Set the code to 1 1") == "Set the code to 1 1"
    assert without_stutter("Add milk, add milk") == "Add milk, add milk"
    assert without_stutter("Yes.") == "Yes." and without_stutter("") == ""


def _scores(tokenizer: object, after: dict[tuple[str, ...], dict[str, float]]):
    """Whisper's next-piece scores as a test sets them: log-probabilities of the
    named pieces after the named pieces, everything else far behind."""

    def next_logprobs(tokens: list[int]) -> np.ndarray:
        scores = np.full(51864, -30.0)
        for before, pieces in after.items():
            said = [t for piece in before for t in tokenizer.encode(piece)]
            if tokens[len(tokens) - len(said) :] == said or not before:
                for piece, score in pieces.items():
                    scores[tokenizer.encode(piece)[0]] = score
        return scores

    return next_logprobs


def test_an_expected_answer_is_heard_when_whisper_rates_it_close(whisper: WhisperSTT) -> None:
    from faster_whisper.tokenizer import Tokenizer

    from speech.answers import Answers

    tokenizer = Tokenizer(whisper.model.hf_tokenizer, False)
    numbers = Answers(tokenizer, [("9", "nine"), ("4", "four"), ("14", "fourteen")])
    yes_no = Answers(tokenizer, ["yes", "no"])
    # a short "nine" Whisper alone writes "No", with "nine" close behind
    heard_no = _scores(tokenizer, {(): {" No": -0.4, " Nine": -1.5, " 9": -2.5}})
    assert numbers.choose(heard_no, [1]) == "9"
    assert yes_no.choose(heard_no, [1]) == "no"
    # a word that is not an answer stays as heard
    heard_stop = _scores(tokenizer, {(): {" Stop": -0.05, " Yes": -6.0}})
    assert yes_no.choose(heard_stop, [1]) is None
    # answers that begin alike are told apart by what follows the first piece
    heard_14 = _scores(
        tokenizer,
        {(): {" Four": -0.2}, (" Four",): {"teen": -0.1, ".": -4.0}, ("teen",): {".": -0.1}},
    )
    assert numbers.choose(heard_14, [1]) == "14"
    heard_4 = _scores(tokenizer, {(): {" Four": -0.2}, (" Four",): {"teen": -4.0, ".": -0.1}})
    assert numbers.choose(heard_4, [1]) == "4"
    assert yes_no.includes("Yes.") and numbers.includes("Nine") and not yes_no.includes("yes sir")


async def test_only_a_turn_near_an_expected_answer_is_heard_as_one(
    piper: PiperTTS, whisper: WhisperSTT
) -> None:
    said = piper.synthesize_now("Stop.", steady=True)
    heard = await whisper.transcribe(said, expect=["yes", "no"])
    assert words(heard.text) == "stop"
    said = piper.synthesize_now("Yes.", steady=True)
    assert words((await whisper.transcribe(said, expect=["yes", "no"])).text) == "yes"


async def test_only_a_one_word_turn_may_be_heard_as_an_expected_answer(
    piper: PiperTTS, whisper: WhisperSTT
) -> None:
    """A longer turn says more than yes or no and keeps its words; hiss heard as
    nothing stays nothing, though "no" is Whisper's likeliest first word for it."""
    said = piper.synthesize_now("No, move it to Friday.", steady=True)
    heard = await whisper.transcribe(said, expect=["yes", "no"])
    assert "friday" in words(heard.text)
    hiss = np.random.default_rng(2).standard_normal(32_000).astype(np.float32) * 0.03
    noise = Audio((hiss * 32767).astype("<i2").tobytes(), 16000)
    assert words((await whisper.transcribe(noise)).text) == ""
    assert words((await whisper.transcribe(noise, expect=["yes", "no"])).text) == ""


async def test_room_noise_alone_is_heard_as_nothing(whisper: WhisperSTT) -> None:
    """A short window made a sentence out of two seconds of hiss ("I'm going to go to
    the ground."); Whisper's own no-speech test on a clip too short for that many
    words now hears nothing in it."""
    rng = np.random.default_rng(7)
    rng.standard_normal(112_000)  # the draws before the hiss that was heard as a sentence
    hiss = rng.standard_normal(32_000).astype(np.float32) * 0.03
    heard = await whisper.transcribe(Audio((hiss * 32767).astype("<i2").tobytes(), 16000))
    assert words(heard.text) == ""


def test_a_looping_transcript_is_recognised() -> None:
    from speech.stt import repetitive

    assert repetitive("Maker the purchase. $1.2.00.000.000.000.000.000.000.000.000.000.000.000")
    assert not repetitive("Record a purchase of $230 at Costco.")


def test_piper_loads_when_its_graph_cache_cannot_be_written(tmp_path: Path) -> None:
    """The optimized-graph cache only saves start-up time: a cache folder that cannot
    be made leaves a voice that still speaks, and one that can is used next time."""
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert PiperTTS(cache=blocked).synthesize_now("Okay.").peak() > 0.05
    PiperTTS(cache=tmp_path / "cache")
    saved = list((tmp_path / "cache" / "onnx").glob("*.onnx"))
    assert len(saved) == 1
    assert PiperTTS(cache=tmp_path / "cache").synthesize_now("Okay.").peak() > 0.05


@pytest.fixture(scope="module")
def whisper_base() -> WhisperSTT:
    """The service's own model: tiny.en takes fewer names from its prompt (named
    commands 46 → 41 % WER against base's 48 → 35 %, `eval.stt --names`)."""
    return WhisperSTT("base")


async def test_the_users_own_names_are_heard_as_written(
    piper: PiperTTS, whisper_base: WhisperSTT
) -> None:
    """Whisper writes a name it does not know as a sound-alike ("Target" for the
    merchant Tartine); told of the user's names it writes the name, and a turn with
    no name in it is heard as it was without them."""
    names = ["Kroger", "Tartine", "Zanzibar trip", "Okonkwo deck"]
    spent = piper.synthesize_now("I spent 12 dollars at Tartine.", steady=True)
    assert "tartine" not in words((await whisper_base.transcribe(spent)).text)
    assert "tartine" in words((await whisper_base.transcribe(spent, vocabulary=names)).text)
    trip = piper.synthesize_now("Add sunscreen to the Zanzibar trip list.", steady=True)
    heard = await whisper_base.transcribe(trip, vocabulary=names)
    assert "zanzibar trip list" in words(heard.text)
    plain = piper.synthesize_now("Remind me to call mom tomorrow at six.", steady=True)
    alone = await whisper_base.transcribe(plain)
    assert (await whisper_base.transcribe(plain, vocabulary=names)).text == alone.text


def test_mulaw_is_g711_bit_for_bit() -> None:
    """Every 16-bit sample encodes as ITU-T G.191's reference encoder does (audioop,
    pipecat's codec, differs on 508 negative samples), and every code decodes to
    the middle of its G.711 interval."""
    every = np.arange(-32768, 32768, dtype="<i2")
    reference = bytes(g191_ulaw(int(x)) for x in every)
    assert mulaw_encode(every.tobytes()) == reference
    codes = np.arange(256)
    exponent, mantissa = ((~codes) >> 4) & 0x07, (~codes) & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    middle = np.where(codes < 0x80, -magnitude, magnitude)
    assert np.array_equal(np.frombuffer(mulaw_decode(bytes(range(256))), "<i2"), middle)
