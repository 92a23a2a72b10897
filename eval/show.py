"""The harness's tables. Sentences are shown only from sets that are not hidden."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from eval.reliability import Reliability

if TYPE_CHECKING:
    from eval.intents import Score

# Piped to a file or a log, the tables keep their width instead of wrapping at 80.
console = Console(width=None if sys.stdout.isatty() else 140)


def _share(hits_of: tuple[int, int]) -> str:
    hits, total = hits_of
    return f"{hits / total:.1%} ({hits}/{total})" if total else "-"


def show_summary(scores: list[Score]) -> None:
    table = Table(
        "set",
        "in-scope intent",
        "out of scope rejected",
        "slots exact",
        "→ Claude",
        "writes on out of scope",
        "parse p50 / p95 ms",
        title="Understanding, local path (a key would send the '→ Claude' share on)",
    )
    for score in scores:
        writes = score.writes
        table.add_row(
            score.name,
            _share(score.overall),
            _share(score.in_scope),
            _share(score.rejected),
            _share(score.slots),
            _share(score.asked),
            f"{len(writes.wrote)} of {writes.turns}" if writes else "-",
            f"{score.median_ms:.1f} / {score.p95_ms:.1f}",
        )
    console.print(table)


def show_reliability(found: Reliability, title: str) -> None:
    table = Table(
        "confidence", "parses", "mean confidence", "accuracy", title=f"Reliability, {title}"
    )
    for row in found.bins:
        table.add_row(
            f"{row.low:.2f}–{row.high:.2f}",
            str(row.turns),
            f"{row.mean_confidence:.2f}",
            f"{row.accuracy:.1%}",
        )
    console.print(table)
    console.print(
        f"expected calibration error {found.calibration_error:.3f} "
        f"over {found.acting} parses that named an action"
    )


def show_writes(scores: list[Score]) -> None:
    for score in scores:
        if score.writes is None:
            continue
        if score.writes.failed:
            console.print(
                f"[red]{score.name}: {len(score.writes.failed)} out-of-scope turns failed[/]"
            )
        if score.hidden:
            continue
        for text, tables in score.writes.wrote:
            console.print(
                f"[red]wrote[/] {score.name}: {text!r} changed {', '.join(tables)}", highlight=False
            )
        for text, error in score.writes.failed:
            console.print(f"[red]failed[/] {score.name}: {text!r}: {error}", highlight=False)


def show_failures(scores: list[Score]) -> None:
    for score in scores:
        assert not score.hidden, "a check half's failures are never read"
        for parse in score.parsed:
            if not parse.right:
                wanted = "/".join(parse.case.expect)
                console.print(
                    f"[red]miss[/] {score.name}: {parse.case.text!r}: wanted {wanted}, "
                    f"got {parse.action} {parse.slots} ({parse.confidence:.2f})",
                    highlight=False,
                )
            elif parse.case.slots and not parse.slots_right:
                console.print(
                    f"[yellow]slots[/] {score.name}: {parse.case.text!r}: "
                    f"wanted {parse.case.slots}, got {parse.slots}",
                    highlight=False,
                )
