"""The speculative-reply measurement sorts turns the way its table says."""

from rich.console import Console

from eval.client import TurnResult
from eval.speculative import _table


def _turn(latency: float, ended_by: str, stt_wait: float, speculative: bool) -> TurnResult:
    stages = {"ended_by": ended_by, "stt_wait": stt_wait, "speculative": speculative}
    return TurnResult("add bread to the", latency=latency, stages=stages)  # type: ignore[arg-type]


def test_only_turns_that_waited_the_silence_count_and_the_early_ones_apart() -> None:
    results = {
        "speculative": [
            _turn(500, "silence", 0.3, True),
            _turn(1500, "silence", 900, False),  # its transcript came after the end
            _turn(300, "whole request", 0.2, False),  # ended on the pause: not counted
        ],
        "off": [_turn(650, "silence", 0.4, False)],
    }
    console = Console(width=200, record=True)
    console.print(_table(results))
    rows = [line for line in console.export_text().splitlines() if "│" in line]
    cells = [[cell.strip() for cell in row.split("│")[1:-1]] for row in rows]
    assert cells[0][:4] == ["speculative", "2/3", "1", "1000 (1500)"]
    assert cells[1][:4] == ["speculative, transcript in by the end", "1/3", "1", "500 (500)"]
    assert cells[2][:4] == ["off", "1/1", "0", "650 (650)"]
