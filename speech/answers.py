"""Hearing an expected short answer: when the caller knows what a reply is likely
to be ("yes" or "no" to "Are you sure?", a number to "How many?"), Whisper's own
first-word scores decide between those answers, and an answer is taken when the
model rates it nearly as high as its own best first word.

A one-second "nine" that Whisper alone writes "No", or a "five" it writes "Bye",
usually has the answer close behind its first choice; a word that is not an answer
("stop", "wait") is far ahead of every answer and is left as heard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# nats: how far below Whisper's own best first word an answer may score and still be taken
SLACK = 3.0
# what may follow a complete answer: end of text or a punctuation mark
_ENDINGS = (".", ",", "?", "!")


# an answer, or its spellings with the one to return first: ("2", "two")
Expected = str | Sequence[str]


@dataclass(frozen=True)
class _Answer:
    said: str  # what the transcript says when this answer is heard
    spellings: tuple[str, ...]
    forms: tuple[tuple[int, ...], ...]  # each spelling as word pieces, capitalized or not

    @property
    def starts(self) -> set[int]:
        return {form[0] for form in self.forms}


class Answers:
    """The expected answers of one question, spelled as Whisper's word pieces."""

    def __init__(self, tokenizer: Any, expect: Sequence[Expected]) -> None:
        self._answers: list[_Answer] = []
        for answer in expect:
            spellings = tuple(s.strip() for s in ([answer] if isinstance(answer, str) else answer))
            forms = {
                tuple(tokenizer.encode(" " + form))
                for spelling in spellings
                for form in (spelling, spelling.capitalize(), spelling.lower())
                if form
            }
            if forms:
                self._answers.append(_Answer(spellings[0], spellings, tuple(sorted(forms))))
        self._ends = [tokenizer.eot, *(tokenizer.encode(e)[0] for e in _ENDINGS)]

    def __bool__(self) -> bool:
        return bool(self._answers)

    def may_replace(self, text: str) -> bool:
        """Is Whisper's own transcript one a misheard answer could be: a single word
        that is not already an answer? More words say more than an answer would ("no,
        move it to Friday", "twelve fifty") and are left as heard; so is a turn heard
        as nothing, where a hiss would otherwise come out as "no"."""
        return len(_plain(text).split()) == 1 and not self.includes(text)

    def includes(self, text: str) -> bool:
        """Whisper already heard one of the answers (any spelling, case or stop)."""
        said = _plain(text)
        return any(_plain(s) == said for answer in self._answers for s in answer.spellings)

    def choose(self, next_logprobs: Any, prompt: list[int], slack: float = SLACK) -> str | None:
        """The answer said, or None when the model hears something else.
        `next_logprobs(tokens)` gives the log-probabilities of the word piece after
        `tokens`. An answer's first pieces (every spelling of it) score together;
        answers that begin with the same piece ("four", "fourteen") are told apart
        by their whole spelling followed by an end of text or a full stop."""
        first = next_logprobs(prompt)
        best = max(self._answers, key=lambda a: _total(first, a.starts))
        if _total(first, best.starts) < first.max() - slack:
            return None
        rivals = [a for a in self._answers if a.starts & best.starts]
        if len(rivals) > 1:
            best = max(
                rivals, key=lambda a: max(self._whole(next_logprobs, prompt, f) for f in a.forms)
            )
        return best.said

    def _whole(self, next_logprobs: Any, prompt: list[int], form: tuple[int, ...]) -> float:
        """Log-probability of the answer spelled `form`, then an end."""
        total = 0.0
        for i, token in enumerate(form):
            total += float(next_logprobs([*prompt, *form[:i]])[token])
        ends = next_logprobs([*prompt, *form])[self._ends]
        return total + float(np.logaddexp.reduce(ends))


def _total(logprobs: np.ndarray, tokens: set[int]) -> float:
    return float(np.logaddexp.reduce(logprobs[sorted(tokens)]))


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w' ]", " ", text.lower()).split())


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())
