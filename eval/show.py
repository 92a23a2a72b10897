"""The harness's tables. Sentences are shown only from sets that are not hidden."""

from __future__ import annotations

import sys
from collections.abc import Callable
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


def _writes(score: Score) -> str:
    return f"{len(score.writes.wrote)} of {score.writes.turns}" if score.writes else "-"


# Each column's heading beside how its cell is read, so the two cannot drift apart.
COLUMNS: list[tuple[str, Callable[[Score], str]]] = [
    ("set", lambda s: s.name),
    ("intent (all)", lambda s: _share(s.overall)),
    ("in-scope intent", lambda s: _share(s.in_scope)),
    ("out of scope rejected", lambda s: _share(s.rejected)),
    ("slots exact", lambda s: _share(s.slots)),
    ("→ Claude", lambda s: _share(s.asked)),
    ("checked back", lambda s: _share(s.checked_back)),
    ("writes on out of scope", _writes),
    ("parse p50 / p95 ms", lambda s: f"{s.median_ms:.1f} / {s.p95_ms:.1f}"),
]


def show_summary(scores: list[Score]) -> None:
    title = "Understanding, local path (a key would send the '→ Claude' share on)"
    table = Table(*(heading for heading, _ in COLUMNS), title=title)
    for score in scores:
        table.add_row(*(cell(score) for _, cell in COLUMNS))
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
