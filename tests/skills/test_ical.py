"""Reading .ics files: what is never read is left out before parsing, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from skills.calendar.ical import parse_calendar

FILE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//EN\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "END:STANDARD\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nDTSTAMP:20261130T000000Z\r\nUID:one@example.com\r\nSEQUENCE:3\r\n"
    "DTSTART;TZID=Europe/Paris:20261202T090000\r\nDURATION:PT45M\r\n"
    "DESCRIPTION:First line\\nand a long one folded over two lines of the file so \r\n"
    " it continues here\u2028with a line separator inside\r\n"
    "X-GOOGLE-CONFERENCE:https://meet.example.com/abc\r\n"
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:This is an event reminder\r\n"
    "TRIGGER:-P0DT0H10M0S\r\nEND:VALARM\r\n"
    "SUMMARY:Planning\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_what_an_event_says_survives_the_trimming() -> None:
    [event] = parse_calendar(FILE.encode(), "UTC")
    assert event.uid == "one@example.com"
    assert event.fields["title"] == "Planning"
    assert event.fields["description"] == (
        "First line\nand a long one folded over two lines of the file so it continues "
        "here\u2028with a line separator inside"
    )  # the event's own, not its alarm's
    assert event.fields["timezone"] == "Europe/Paris"
    assert event.fields["start_at"] == datetime(2026, 12, 2, 8, tzinfo=UTC)
    assert event.fields["end_at"] == datetime(2026, 12, 2, 8, 45, tzinfo=UTC)
    assert event.fields["recurrence"] == "FREQ=WEEKLY;COUNT=3"
