"""The temporal layer against a table of phrases (tests as data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from intents.temporal import find_when, parse_when

TABLE = yaml.safe_load((Path(__file__).parent / "temporal_cases.yaml").read_text())
ZONE = ZoneInfo(TABLE["zone"])


def local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).replace(tzinfo=ZONE)


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["say"] for c in TABLE["cases"]])
def test_phrase(case: dict) -> None:
    now = local(case.get("now", TABLE["now"]))
    past = case.get("past", False)
    found = find_when(case["say"], now, prefer_past=past)
    if case.get("none"):
        assert found is None, found
        return
    if found is None:  # phrases only the dateparser fallback reads
        when, rest = parse_when(case["say"], now, prefer_past=past), ""
        assert when is not None, "no time found"
    else:
        rest, when = found
    if "duration" in case:
        assert when.duration == timedelta(minutes=case["duration"])
        return
    has_time = "T" in case["start"]
    assert (
        when.start.replace(tzinfo=None).isoformat(timespec="minutes")
        if has_time
        else when.start.date().isoformat()
    ) == case["start"]
    assert when.has_time == has_time
    if "end" in case:
        assert when.end is not None
        end = case["end"]
        shown = (
            when.end.replace(tzinfo=None).isoformat(timespec="minutes")
            if "T" in end
            else when.end.date().isoformat()
        )
        assert shown == end
    assert when.rrule == case.get("rrule")
    if "part" in case:
        assert when.part == case["part"]
    if "rest" in case:
        assert rest == case["rest"]
    if "utc" in case:
        assert (
            when.start.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="minutes")
            == case["utc"]
        )


def test_the_table_is_big_enough() -> None:
    assert len(TABLE["cases"]) >= 150
