"""The trained models, loaded from their folder: classify, then tag the words."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import pycrfsuite

from intents.trained.calibration import Calibration
from intents.trained.features import sentence_features, token_features

Marks = Sequence[set[str]]


class IntentModel:
    def __init__(self, path: Path) -> None:
        self.tagger = pycrfsuite.Tagger()
        self.tagger.open(str(path))
        self.labels = list(self.tagger.labels())
        self._lock = threading.Lock()  # a CRFsuite tagger holds the sentence it is given

    def scores(self, tokens: Sequence[str], marks: Marks) -> dict[str, float]:
        with self._lock:
            self.tagger.set([sentence_features(tokens, marks)])
            return {label: self.tagger.marginal(label, 0) for label in self.labels}

    def best(self, tokens: Sequence[str], marks: Marks) -> tuple[str, float]:
        scores = self.scores(tokens, marks)
        label = max(scores, key=scores.__getitem__)
        return label, scores[label]


class SlotModel:
    def __init__(self, path: Path) -> None:
        self.tagger = pycrfsuite.Tagger()
        self.tagger.open(str(path))
        self._lock = threading.Lock()

    def tag(self, tokens: Sequence[str], marks: Marks, label: str) -> list[str]:
        if not tokens:
            return []
        with self._lock:
            return list(self.tagger.tag(token_features(tokens, marks, label)))


class TrainedModel:
    """The classifier, the tagger and the calibration built into one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.intents = IntentModel(folder / "intents.crfsuite")
        self.slots = SlotModel(folder / "slots.crfsuite")
        self.calibration = Calibration.from_dict(
            json.loads((folder / "calibration.json").read_text())
        )
        self.manifest = json.loads((folder / "manifest.json").read_text())


def spans(tokens: Sequence[str], tags: Sequence[str]) -> dict[str, str]:
    """The words of each slot (BIO tags); where a slot is tagged twice, the first."""
    found: dict[str, str] = {}
    current, words = "", []  # type: tuple[str, list[str]]
    for token, tag in [*zip(tokens, tags, strict=True), ("", "O")]:
        inside = tag.startswith("I-") and tag[2:] == current
        if not inside and current:
            found.setdefault(current, " ".join(words))
            current, words = "", []
        if tag.startswith("B-") or (tag.startswith("I-") and not current):
            current, words = tag[2:], [token]
        elif inside:
            words.append(token)
    return found
