"""The end-of-turn measurement finds the pause it scores and counts cut-offs right."""

import numpy as np

from eval.turn_end import Scored, first_half, summarize


def test_first_half_stops_at_the_corpus_pause() -> None:
    rate = 16_000
    word = np.full(rate // 2, 0.3, np.float32)  # half a second of "speech"
    quiet = np.zeros(int(0.45 * rate), np.float32)
    samples = np.concatenate([word, np.zeros(800, np.float32), word, quiet, word])
    text, before = first_half("add milk to my list", samples)
    assert text == "add milk"
    assert before.size == 2 * word.size + 800  # both words before the long pause, no more


def _scored(kind: str, probability: float, grammar: str) -> Scored:
    return Scored(kind, "x", probability, grammar, cpu_ms=10, wall_ms=12)


def test_a_pause_called_complete_counts_as_a_cut_off() -> None:
    summary = summarize(
        [
            _scored("synthetic pause", 0.9, "unknown"),  # the audio model would cut here
            _scored("synthetic pause", 0.9, "unfinished"),  # the words say more is coming
            _scored("synthetic end", 0.9, "whole"),
            _scored("real pause", 0.2, "-"),
        ]
    )
    rules = summary["ends_here"]
    assert rules["grammar whole"] == {"synthetic end": "1/1", "synthetic pause": "0/2"}
    assert rules["Smart Turn ≥ 0.5"]["synthetic pause"] == "2/2"
    assert rules["Smart Turn ≥ 0.5"]["real pause"] == "0/1"
    fused = rules["grammar whole, or Smart Turn ≥ 0.5 where the grammar cannot tell"]
    assert fused["synthetic pause"] == "1/2"
    assert summary["cpu_ms_p50"] == 10
