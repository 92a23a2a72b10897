"""Speech to text with faster-whisper (CTranslate2): int8 on the CPU, greedy
decoding, English, no timestamps — the settings that keep a command fast.

Whisper's encoder always reads 30 seconds; a spoken command is two or three. For
a short utterance we encode a shorter window of features instead: the smallest of
`SHORT_WINDOWS` that holds the speech with a second to spare, up to `window`
seconds (below about 5 seconds the decoder starts to loop). The encoder's time
grows with its window, so a two-second command costs a fifth of the full one.
`python -m eval.stt` checks on the eval corpus that no words are lost by it.
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from speech.answers import Answers, Expected, log_softmax
from speech.audio import SPEECH_RATE, Audio
from speech.models import whisper_path
from speech.vocabulary import mentions, near_names, prompt_text

FULL_WINDOW = 30  # seconds: what Whisper was trained on
SHORT_WINDOWS = (6, 8, 10)  # seconds: the encoder windows a short utterance may get
MARGIN = 1.0  # seconds of room left after the speech inside a short window
PROMPT_TOKENS = 60  # word pieces of the user's names in a prompt, at most
NO_SPEECH, UNSURE = 0.6, -1.0  # faster-whisper's defaults: no-speech probability, mean log-prob
SURELY_NO_SPEECH = 0.85


@dataclass(frozen=True)
class Transcript:
    text: str
    seconds: float  # how long recognition took


class WhisperSTT:
    """Load once (about a second); transcribe in a worker thread, never on the loop."""

    def __init__(
        self,
        model: str = "tiny.en",
        *,
        threads: int = 2,
        cache: Path | None = None,
        window: int | None = 10,
        fit: bool = True,
    ) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self.name = model
        self.window = window  # most seconds of encoder input for short turns; None: always 30
        self.fit = fit  # size the window to the utterance (else always `window`)
        self.model = WhisperModel(
            str(whisper_path(model, cache)), device="cpu", compute_type="int8", cpu_threads=threads
        )
        multilingual = self.model.model.is_multilingual
        language = "en" if multilingual else None
        self._tokenizer = Tokenizer(
            self.model.hf_tokenizer, multilingual, task="transcribe", language=language
        )
        self._prompt = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        self._suppress = get_suppressed_tokens(self._tokenizer, (-1,))
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")

    async def transcribe(
        self, audio: Audio, expect: Sequence[Expected] = (), vocabulary: Sequence[str] = ()
    ) -> Transcript:
        """Decodes run one at a time on their own thread: each already uses every
        core, and a speculative decode cancelled before it starts never runs, so a
        stale one cannot hold up the transcript the user is waiting for."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._worker, self.transcribe_now, audio, expect, vocabulary
        )

    def transcribe_now(
        self, audio: Audio, expect: Sequence[Expected] = (), vocabulary: Sequence[str] = ()
    ) -> Transcript:
        """`expect`: the answers the question just asked is likely to get ("yes",
        "no"; a number as ("2", "two")); a short turn Whisper hears as one word that is
        nearly one of them is heard as it (speech/answers.py), anything else as
        Whisper hears it. `vocabulary`: the user's own names (lists, projects,
        merchants, categories): a turn that says something spelled nearly like one
        is heard again with them in mind (speech/vocabulary.py)."""
        started = time.perf_counter()
        samples = audio.resampled(SPEECH_RATE).as_float()
        if samples.size == 0:
            return Transcript("", 0.0)
        answers = Answers(self._tokenizer, expect) if expect else None
        encoded: dict[int, Any] = {}  # window → encoder output, shared by both hearings
        text = self._decode(samples, encoded, (), answers)
        names = near_names(text, vocabulary) if vocabulary else []
        if names:
            biased = self._decode(samples, encoded, names, None)
            if mentions(biased, names):
                text = biased
        return Transcript(text, time.perf_counter() - started)

    def _decode(
        self,
        samples: np.ndarray,
        encoded: dict[int, Any],
        names: Sequence[str],
        answers: Answers | None,
    ) -> str:
        """Whisper's hearing of `samples`, told of `names` first if there are any."""
        prompt = self._prompt_with(names) if names else self._prompt
        window = self.window_for(samples.size / SPEECH_RATE)
        # A short window that loops is tried once more at the longest short window
        # before the usual 30 s decode, which takes four times as long and 150 MB more.
        for size in dict.fromkeys([window, self.window]) if window else ():
            if size not in encoded:
                encoded[size] = self._encode(samples, size)
            text = self._short(encoded[size], samples.size / SPEECH_RATE, prompt, answers)
            if not repetitive(text):
                return text
        return self._full(samples, names)

    def _prompt_with(self, names: Sequence[str]) -> list[int]:
        """The decoder's prompt with `names` as if said just before: Whisper takes a
        word it has just "heard" more readily (speech/vocabulary.py)."""
        pieces = self._tokenizer.encode(" " + prompt_text(names))[:PROMPT_TOKENS]
        return [self._tokenizer.sot_prev, *pieces, *self._prompt]

    def window_for(self, seconds: float) -> int | None:
        """The encoder window for an utterance this long; None: Whisper's full 30 s."""
        if not self.window or seconds + MARGIN > self.window:
            return None
        if not self.fit:
            return self.window
        fits = [w for w in SHORT_WINDOWS if seconds + MARGIN <= w < self.window]
        return fits[0] if fits else self.window

    def _full(self, samples: np.ndarray, names: Sequence[str]) -> str:
        segments, _info = self.model.transcribe(
            samples,
            language="en",
            beam_size=1,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            initial_prompt=prompt_text(names) or None,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()

    def _encode(self, samples: np.ndarray, window: int) -> Any:
        """Whisper's encoder over a `window`-second input: about 40 % of a short decode
        (562 of 1313 ms median for a 2.5 s command, base on a loaded box), so the
        second hearing with the user's names reuses it."""
        extractor = self.model.feature_extractor
        features = extractor(samples)[:, : window * SPEECH_RATE // extractor.hop_length]
        frames = window * SPEECH_RATE // extractor.hop_length
        padded = np.pad(features, ((0, 0), (0, frames - features.shape[1])))
        return self.model.encode(padded)

    def _short(
        self, encoded: Any, seconds: float, prompt: list[int], answers: Answers | None = None
    ) -> str:
        """One greedy decode of a `seconds`-long clip over its encoded short window."""
        # People say under five tokens a second; a longer answer is a loop, so stop it.
        most = len(prompt) + 12 + int(6 * seconds)
        result = self.model.model.generate(
            encoded,
            [prompt],
            beam_size=1,
            max_length=min(most, self.model.max_length),
            suppress_blank=True,
            suppress_tokens=self._suppress,
            return_scores=True,
            return_no_speech_prob=True,
        )[0]
        text = without_stutter(
            without_echo(self._tokenizer.decode(result.sequences_ids[0]).strip())
        )
        if _invented(result, text, seconds):
            text = ""
        if answers and answers.may_replace(text):
            return answers.choose(self._next_logprobs(encoded), prompt) or text
        return text

    def _next_logprobs(self, encoded: object) -> Callable[[list[int]], np.ndarray]:
        """Whisper's scores for the word piece after a prompt, on audio already encoded."""

        def scores(tokens: list[int]) -> np.ndarray:
            result = self.model.model.generate(
                encoded,
                [tokens],
                beam_size=1,
                max_length=len(tokens) + 1,
                suppress_blank=True,
                suppress_tokens=self._suppress,
                return_logits_vocab=True,
            )[0]
            return log_softmax(np.asarray(result.logits[0][0], dtype=np.float64))

        return scores


def _invented(result: object, text: str, seconds: float) -> bool:
    """A sentence made up where nothing was said: Whisper's own no-speech test (the
    model finds no speech likely and is unsure of what it wrote) on more words than
    the clip had time for. A faint one-word clip came out as "I'm not sure if I can
    get it." where the 30 s decode heard nothing. A short low-confidence guess is
    kept: on synthetic voices it is often half right ("Mark Payman")."""
    tokens = len(result.sequences_ids[0])  # type: ignore[attr-defined]
    mean = result.scores[0] * tokens / (tokens + 1)  # type: ignore[attr-defined]
    no_speech = result.no_speech_prob  # type: ignore[attr-defined]
    if mean >= UNSURE or no_speech <= NO_SPEECH:
        return False
    # Near-certain silence is not kept as a sentence even when the clip had time for it:
    # two seconds of hiss came out as "I'm gonna go to the left." (no speech 0.92, mean
    # log-prob -1.9). A word or two is still kept: a faint "yes" scores the same way.
    words = len(text.split())
    return words > 2 + 2 * seconds or (no_speech > SURELY_NO_SPEECH and words > 2)


def repetitive(text: str, threshold: float = 2.4) -> bool:
    """A decoding loop: a piece said four times running ("000.000.000.000"), or text
    that compresses as well as faster-whisper's own retry test finds suspicious."""
    data = text.encode()
    if _LOOP.search(text):
        return True
    return len(data) > 24 and len(data) / len(zlib.compress(data)) > threshold


_LOOP = re.compile(r"(.{3,}?)\1{3,}")


def without_echo(text: str) -> str:
    """Whisper sometimes says a short clip twice over ("What can you do? What can
    you do?"), the copy whole or cut short; a command does not repeat itself, so
    the copy goes."""
    words = text.split()
    plain = _plain(words)
    for cut in range((len(words) + 1) // 2, len(words) - 2):
        # The copy may lack the full stop or stop short: "Add stamps to my list. Add stamps".
        if plain[cut:] == plain[: len(words) - cut]:
            return " ".join(words[:cut])
    sentences = re.split(r"(?<=[.?!])\s+", text)
    # A copy cut off after a word or two ("… in two minutes. Remind"): a dangling
    # restart of the first sentence, never finished, adds nothing the user said.
    tail = _plain(sentences[-1].split())
    if (
        len(sentences) > 1
        and 0 < len(tail) <= 2
        and sentences[-1][-1:] not in ".?!"
        and tail == plain[: len(tail)]
    ):
        sentences = sentences[:-1]
    kept = [
        s
        for i, s in enumerate(sentences)
        if i == 0 or _plain(s.split()) != _plain(sentences[i - 1].split())
    ]
    return " ".join(kept)


def without_stutter(text: str) -> str:
    """In a short window Whisper often fails to end after the last word and says it
    again until its length cap ("Left Left Left", "8 8"): on real one-word answers
    that was most of the errors. A loop runs to the end, so a word said again and
    again at the end is kept once: when it is the whole transcript, or said three
    times or more; a repeat mid-sentence or one "5 5" after other words stays."""
    words = text.split()
    plain = _plain(words)
    start = len(words) - 1
    while start > 0 and plain[start - 1] == plain[-1] and plain[-1]:
        start -= 1
    if start == len(words) - 1 or (start > 0 and len(words) - start < 3):
        return text
    last = words[start].rstrip(",")
    stop = words[-1][-1]
    ending = stop if stop in ".?!" and last[-1:] not in (".", "?", "!") else ""
    return " ".join([*words[:start], last + ending])


def _plain(words: list[str]) -> list[str]:
    return [w.lower().strip(".,?!") for w in words]
