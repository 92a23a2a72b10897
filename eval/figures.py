"""Latency figures as the probes report them."""

from __future__ import annotations

import statistics


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(values), "p50": statistics.median(ordered), "p95": p95, "max": ordered[-1]}


def figures(values: list[float]) -> str:
    p = percentiles(values)
    return f"n={p['n']:<5} p50 {p['p50']:7.1f} ms  p95 {p['p95']:7.1f} ms  max {p['max']:8.1f} ms"
