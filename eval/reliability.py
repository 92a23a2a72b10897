"""Whether a parse's confidence says how often it is right: a reliability table.

Only parses that name an action count: those are the ones that could act. A
calibrated parser's accuracy in each bin is close to the bin's mean confidence; the
expected calibration error is the turn-weighted mean of that gap."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

EDGES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)


class Judged(Protocol):
    action: str
    confidence: float

    @property
    def right(self) -> bool: ...


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    turns: int
    mean_confidence: float
    accuracy: float


@dataclass(frozen=True)
class Reliability:
    bins: list[Bin]
    calibration_error: float  # expected calibration error over the acting parses
    acting: int  # parses that named an action


def _bin_of(confidence: float) -> int:
    for index in range(len(EDGES) - 2, -1, -1):
        if confidence >= EDGES[index]:
            return index
    return 0


def reliability(parsed: Iterable[Judged], rejecting: str = "out_of_scope") -> Reliability:
    groups: list[list[Judged]] = [[] for _ in EDGES[:-1]]
    for parse in parsed:
        if parse.action != rejecting:
            groups[_bin_of(parse.confidence)].append(parse)
    bins, acting, gap = [], 0, 0.0
    for index, group in enumerate(groups):
        if not group:
            continue
        mean = sum(p.confidence for p in group) / len(group)
        accuracy = sum(1 for p in group if p.right) / len(group)
        bins.append(Bin(EDGES[index], EDGES[index + 1], len(group), mean, accuracy))
        acting += len(group)
        gap += len(group) * abs(mean - accuracy)
    return Reliability(bins, gap / acting if acting else 0.0, acting)
