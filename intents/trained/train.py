"""Training: an intent classifier, a slot tagger and their calibration, into a folder.

Both models are CRFsuite models. The classifier is a CRF over one-item sequences,
which is exactly multinomial logistic regression; the tagger is a linear-chain CRF
over the words, told the intent (Snips NLU trains one per intent; one model that
reads the intent is smaller and does as well here). L-BFGS on a fixed data order is
deterministic, and the data are generated from a fixed seed.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pycrfsuite

from intents.trained.calibration import Calibration, fit_isotonic
from intents.trained.data import Example, training_set
from intents.trained.features import (
    gazetteer,
    gazetteer_tags,
    sentence_features,
    token_features,
)

SEED = 13
KNOWN_NAMES = ("list", "project", "category", "merchant")  # slots with a gazetteer
INTENT_PARAMS = {"c1": 0.0, "c2": 0.1, "max_iterations": 100}
SLOT_PARAMS = {"c1": 0.05, "c2": 0.01, "max_iterations": 60}
FOLDS = 4  # calibration is fitted on templates held out of one fold's model each


def known_names(example: Example, rng: random.Random) -> list[set[str]]:
    """Half the time the user already has the list, project or merchant named, as a
    real user's own names would be; the rest, the words must speak for themselves."""
    names: dict[str, set[str]] = defaultdict(set)
    for kind in KNOWN_NAMES:
        span = [w for w, tag in zip(example.tokens, example.tags, strict=True) if tag[2:] == kind]
        if span and rng.random() < 0.5:
            names[kind].add(" ".join(span))
    return gazetteer_tags(example.tokens, gazetteer(names))


def _train(rows: list[tuple[list[dict[str, float]], list[str]]], path: Path, params: dict) -> None:
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    for features, labels in rows:
        trainer.append(features, labels)
    trainer.set_params(params)
    trainer.train(str(path))


def train_intents(examples: list[Example], path: Path) -> None:
    rng = random.Random(SEED)
    rows = [([sentence_features(e.tokens, known_names(e, rng))], [e.label]) for e in examples]
    _train(rows, path, INTENT_PARAMS)


def train_slots(examples: list[Example], path: Path) -> None:
    rng = random.Random(SEED + 1)
    rows = [
        (token_features(e.tokens, known_names(e, rng), e.label), list(e.tags))
        for e in examples
        if any(tag != "O" for tag in e.tags)
    ]
    _train(rows, path, SLOT_PARAMS)


def template_folds(examples: list[Example]) -> list[list[Example]]:
    """Examples in FOLDS groups by whole template, so each group's sentences are
    paraphrases to a model trained on the others."""
    templates = sorted({e.template for e in examples})
    random.Random(SEED).shuffle(templates)
    fold_of = {template: at % FOLDS for at, template in enumerate(templates)}
    folds: list[list[Example]] = [[] for _ in range(FOLDS)]
    for example in examples:
        folds[fold_of[example.template]].append(example)
    return folds


def calibrate(examples: list[Example], folder: Path) -> tuple[Calibration, float]:
    """Isotonic map from the classifier's score to the chance it is right, fitted on
    every template scored by a model trained without it; returns it and that accuracy."""
    from intents.trained.model import IntentModel

    scores: list[float] = []
    right: list[bool] = []
    folds = template_folds(examples)
    for at, unseen in enumerate(folds):
        path = folder / f"fold-{at}.crfsuite"
        train_intents([e for other, fold in enumerate(folds) if other != at for e in fold], path)
        model = IntentModel(path)
        for example in unseen:
            label, score = model.best(example.tokens, [set() for _ in example.tokens])
            scores.append(score)
            right.append(label.split("|")[0] == example.label.split("|")[0])
        path.unlink()
    return fit_isotonic(scores, right), sum(right) / len(right)


def build(folder: Path, fingerprint: str = "") -> dict[str, Any]:
    """Train everything into ``folder``; returns what it measured on the way."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    examples = training_set(SEED)
    calibration, held_out_accuracy = calibrate(examples, folder)
    train_intents(examples, folder / "intents.crfsuite")
    train_slots(examples, folder / "slots.crfsuite")
    stats = {
        "fingerprint": fingerprint,
        "examples": len(examples),
        "held_out_intent_accuracy": round(held_out_accuracy, 4),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (folder / "calibration.json").write_text(json.dumps(calibration.as_dict()))
    (folder / "manifest.json").write_text(json.dumps(stats, indent=2))
    return stats
