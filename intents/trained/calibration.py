"""Turning the classifier's score into the chance it is right (isotonic regression).

Fitted on sentences from templates the model was not trained on, so the chance is
that of a paraphrase, not of a sentence it has seen. Pool-adjacent-violators is a
few lines; it saves scikit-learn's ~2 s import and ~85 MB in the service.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    scores: tuple[float, ...]  # increasing knots: raw score → chance of being right
    chances: tuple[float, ...]

    def __call__(self, score: float) -> float:
        return float(np.interp(score, self.scores, self.chances))

    def as_dict(self) -> dict[str, list[float]]:
        return {"scores": list(self.scores), "chances": list(self.chances)}

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> Calibration:
        return cls(tuple(data["scores"]), tuple(data["chances"]))


def fit_isotonic(scores: Sequence[float], right: Sequence[bool]) -> Calibration:
    """The non-decreasing step function of score closest to the outcomes (PAV)."""
    order = np.argsort(np.asarray(scores, dtype=float), kind="stable")
    xs = np.asarray(scores, dtype=float)[order]
    ys = np.asarray(right, dtype=float)[order]
    blocks: list[list[float]] = []  # [sum of outcomes, count, lowest score, highest score]
    for x, y in zip(xs, ys, strict=True):
        blocks.append([y, 1.0, x, x])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            total, count, _low, high = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
            blocks[-1][3] = high
    knots: list[float] = []
    chances: list[float] = []
    for total, count, low, high in blocks:
        for x in (low, high) if high > low else (low,):
            if knots and x <= knots[-1]:
                continue
            knots.append(float(x))
            chances.append(total / count)
    if len(knots) == 1:
        knots, chances = [0.0, 1.0], [chances[0], chances[0]]
    return Calibration(tuple(knots), tuple(chances))


def reliability(
    chances: Sequence[float], right: Sequence[bool], bins: int = 10
) -> list[tuple[float, float, float, int]]:
    """(bin low, bin high, share right, count) per confidence bin, for reports."""
    rows = []
    edges = np.linspace(0.0, 1.0, bins + 1)
    values = np.asarray(chances, dtype=float)
    outcomes = np.asarray(right, dtype=float)
    for low, high in itertools.pairwise(edges):
        inside = (values >= low) & ((values < high) if high < 1.0 else (values <= high))
        count = int(inside.sum())
        share = float(outcomes[inside].mean()) if count else float("nan")
        rows.append((float(low), float(high), share, count))
    return rows
