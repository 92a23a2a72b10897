"""The one definition of a percentile the measurements report: linear between the
two nearest ranks (numpy's default), so the 50th is the median."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], share: float) -> float:
    """The value ``share`` of the way up the sorted ``values`` (0.5 the median, 0.95
    the p95); raises ValueError when there are none."""
    if not values:
        raise ValueError("no values to take a percentile of")
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    below = int(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """Count, median, p95 and maximum, as the tables print them (zeros when empty)."""
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    return {
        "n": len(values),
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
        "max": max(values),
    }


def figures(values: Sequence[float]) -> str:
    """One line of them, as the probes print it."""
    p = percentiles(values)
    return f"n={p['n']:<5} p50 {p['p50']:7.1f} ms  p95 {p['p95']:7.1f} ms  max {p['max']:8.1f} ms"
