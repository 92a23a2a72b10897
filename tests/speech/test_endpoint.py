"""End of turn on live audio: a pause to start speech-to-text early, an end to
answer, a resume when the speaker goes on, nothing for silence or hiss."""

from __future__ import annotations

import numpy as np
import pytest

from speech.audio import Audio
from speech.endpoint import Endpointer, StreamingVAD
from speech.tts import PiperTTS

CHUNK = 640  # bytes: 20 ms of 16 kHz PCM16, how clients send audio


@pytest.fixture(scope="module")
def vad() -> StreamingVAD:
    return StreamingVAD()


def silence(seconds: float) -> bytes:
    return np.zeros(int(16000 * seconds), dtype="<i2").tobytes()


def feed(endpointer: Endpointer, pcm: bytes) -> list[tuple[str, float]]:
    events = []
    for i in range(0, len(pcm), CHUNK):
        events += [(e.kind, e.at) for e in endpointer.feed(pcm[i : i + CHUNK])]
    return events


def spoken(piper: PiperTTS, text: str) -> Audio:
    return piper.synthesize_now(text, steady=True).resampled(16000)


def test_a_command_then_silence(vad: StreamingVAD, piper: PiperTTS) -> None:
    vad.reset()
    speech = spoken(piper, "Add milk to my shopping list.")
    lead = 0.5
    events = feed(Endpointer(vad), silence(lead) + speech.pcm + silence(1.5))
    kinds = [kind for kind, _ in events]
    # A gap between two words may pause the turn too (and resume it): the pause
    # is short, so speech-to-text starts early. The turn ends once, after the last.
    assert kinds[0] == "start" and kinds[-2:] == ["pause", "end"]
    assert kinds.count("pause") == kinds.count("resume") + 1 <= 3
    start, (_, pause), (_, end) = events[0][1], events[-2], events[-1]
    last_word = lead + speech.seconds
    assert lead - 0.1 <= start <= lead + 0.4
    # Piper's own trailing silence is part of the wait; both fire soon after the words end.
    assert last_word - 0.3 <= pause <= last_word + 0.5
    assert pause < end <= last_word + 0.8


def test_a_pause_mid_sentence_resumes_the_turn(vad: StreamingVAD, piper: PiperTTS) -> None:
    vad.reset()
    first = spoken(piper, "Remind me to call mom")
    second = spoken(piper, "tomorrow at six.")
    endpointer = Endpointer(vad)
    events = feed(endpointer, first.pcm + silence(0.3) + second.pcm + silence(1.0))
    kinds = [kind for kind, _ in events]
    assert kinds.count("end") == 1 and kinds[-1] == "end"
    assert "resume" in kinds  # the early transcript would have been dropped
    assert endpointer.turn_audio().seconds > first.seconds + second.seconds - 0.6


@pytest.mark.parametrize("noise", ["silence", "hiss"])
def test_no_turn_without_speech(vad: StreamingVAD, noise: str) -> None:
    vad.reset()
    rng = np.random.default_rng(7)
    if noise == "silence":
        pcm = silence(3)
    else:
        pcm = (rng.normal(0, 0.01, 48000) * 32767).astype("<i2").tobytes()
    endpointer = Endpointer(vad)
    assert feed(endpointer, pcm) == []
    assert endpointer.turn_audio().seconds == 0


def test_a_monologue_is_cut(vad: StreamingVAD, piper: PiperTTS) -> None:
    vad.reset()
    talk = spoken(
        piper, "And then we went to the market and bought apples, pears, bread, cheese and wine."
    )
    events = feed(Endpointer(vad, max_turn_s=2.0), talk.pcm)
    assert "too_long" in [kind for kind, _ in events]


def test_two_turns_in_one_stream(vad: StreamingVAD, piper: PiperTTS) -> None:
    vad.reset()
    endpointer = Endpointer(vad)
    speech = spoken(piper, "What's on my calendar?")
    first = feed(endpointer, speech.pcm + silence(1.0))
    assert first[-1][0] == "end"
    taken = endpointer.turn_audio()
    endpointer.next_turn()
    assert endpointer.turn_audio().seconds == 0
    second = feed(endpointer, speech.pcm + silence(1.0))
    assert second[0][0] == "start"
    assert second[0][1] > first[-1][1]  # times count from the start of the stream
    assert abs(endpointer.turn_audio().seconds - taken.seconds) < 0.1


def test_an_open_microphone_does_not_grow_memory_between_turns() -> None:
    endpointer = Endpointer(StreamingVAD())
    quiet = np.zeros(16000 * 60, dtype="<i2").tobytes()  # a minute of an idle open page
    assert endpointer.feed(quiet) == []
    assert len(endpointer._frames) < 40  # about a second, not a minute


def _end_after(vad: StreamingVAD, speech: Audio, *, short_answer: bool) -> float:
    """Seconds from the last word to the end of the turn."""
    vad.reset()
    endpointer = Endpointer(vad)
    half = len(speech.pcm) // 4 * 2  # whole samples
    events = feed(endpointer, silence(0.5) + speech.pcm[:half])
    if short_answer:
        endpointer.expect_short_answer()  # as the pipeline does at the turn's first pause
    events += feed(endpointer, speech.pcm[half:] + silence(1.0))
    ends = [at for kind, at in events if kind == "end"]
    assert len(ends) == 1
    return ends[0] - (0.5 + speech.seconds)


def test_an_awaited_short_answer_ends_on_a_shorter_silence(
    vad: StreamingVAD, piper: PiperTTS
) -> None:
    answer = spoken(piper, "Yes.")
    waited = _end_after(vad, answer, short_answer=False)
    awaited = _end_after(vad, answer, short_answer=True)
    assert awaited <= waited - 0.15  # 256 ms of silence instead of 480
    assert awaited <= 0.45


def test_a_long_turn_waits_the_long_silence_even_when_a_short_answer_is_awaited(
    vad: StreamingVAD, piper: PiperTTS
) -> None:
    # Someone who answers "Delete all 3 tasks?" with a sentence may pause in it.
    sentence = spoken(piper, "No, only the ones on my shopping list from last week.")
    waited = _end_after(vad, sentence, short_answer=False)
    awaited = _end_after(vad, sentence, short_answer=True)
    assert abs(awaited - waited) < 0.05
