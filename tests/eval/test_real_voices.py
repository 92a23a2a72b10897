"""Real people's recordings: loaded from the shared folder as 16 kHz samples with
their references, split into fixed halves, and scored for words heard and for a
hearing that repeats itself. Without the folder the harness runs without them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eval.corpus import build, clip
from eval.real_voices import (
    ORDERS,
    WORDS,
    load_orders,
    load_words,
    repeats,
    speech_dir,
    words_heard,
)
from eval.sets import CHECK, TUNE

needs_recordings = pytest.mark.skipif(speech_dir() is None, reason="no ../shared/speech")


@needs_recordings
def test_words_load_as_16_khz_samples_with_the_word_said() -> None:
    words = load_words()
    assert len(words) >= 100
    said = {w.reference for w in words}
    assert {"yes", "no", "stop", "zero", "nine"} <= said
    first = words[0]
    assert first.kind == WORDS
    assert first.audio.dtype == np.int16
    assert 0.5 * 16000 <= first.audio.size <= 1.5 * 16000  # one-second clips
    start, end = first.speech_span
    assert 0 <= start < end < first.audio.size
    assert np.abs(first.audio[start : end + 1]).max() > 1000  # the span is the loud part


@needs_recordings
def test_orders_carry_their_slot_words_and_speech_ends_before_the_room_sound() -> None:
    orders = load_orders()
    assert len(orders) >= 300
    order = orders[0]
    assert order.kind == ORDERS
    assert order.reference == " ".join(order.slots.values())
    assert "roast" in order.reference
    _start, end = order.speech_span
    assert end < order.audio.size - 16000  # these recordings trail off in room sound


@needs_recordings
def test_halves_are_fixed_by_file_name_and_apart() -> None:
    words = load_words()
    tune, check = load_words(half=TUNE), load_words(half=CHECK)
    assert len(tune) + len(check) == len(words)
    assert {w.name for w in tune}.isdisjoint({w.name for w in check})
    assert min(len(tune), len(check)) > len(words) // 4  # a real split, not all on one side
    assert [w.half for w in load_words()] == [w.half for w in words]  # the same every time


def test_a_missing_folder_leaves_the_real_part_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFEOS_SPEECH_DIR", str(tmp_path / "absent"))
    assert speech_dir() is None
    assert not [s for s in build(quick=True) if s.id.startswith("real-")]
    with pytest.raises(FileNotFoundError, match="LIFEOS_SPEECH_DIR"):
        load_words()


@needs_recordings
def test_quick_corpus_has_a_handful_of_real_clips_streamed_as_recorded() -> None:
    real = [s.turns[0] for s in build(quick=True) if s.id.startswith("real-")]
    assert 1 <= len(real) <= 5
    assert {"yes", "no"} <= {t.text for t in real}
    turn = real[0]
    assert turn.recording is not None and turn.intent is None  # hearing only, no intent
    sound = clip(turn, phone=False, tail=1.0, seed=0)
    assert sound.rate == 16000
    recorded = turn.recording.audio
    assert np.array_equal(np.frombuffer(sound.pcm, "<i2")[: recorded.size], recorded)
    assert (sound.speech_start, sound.speech_end) == turn.recording.speech_span


def test_slot_words_count_once_each() -> None:
    assert words_heard("large latte", "a large latte please") == (2, 2)
    assert words_heard("double shot dark roast", "a double shot of dark coffee") == (3, 4)
    assert words_heard("large large", "large") == (1, 2)
    assert words_heard("oat milk", "") == (0, 2)


def test_a_hearing_said_twice_or_looping_counts_as_a_repeat() -> None:
    assert repeats("what time is it what time is it")
    assert repeats("a large latte with oat milk a large latte")
    assert repeats("no no no")
    assert not repeats("no no")  # people do say that
    assert not repeats("a large latte with oat milk and a double shot")
    assert not repeats("")
