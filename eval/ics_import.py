"""How long a large .ics import takes through POST /v1/calendar.ics, and how long it
holds up the service's event loop meanwhile (the longest time a 10 ms timer waited).

    uv run python -m eval.ics_import [--events 10000] [--style plain|google] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from agent.app import create_app
from eval.local import service_with_user

# What a Google Calendar export adds to each event beside what is imported.
GOOGLE_EXTRA = [
    "DTSTAMP:20261130T000000Z",
    "CREATED:20250101T000000Z",
    "LAST-MODIFIED:20250102T000000Z",
    "SEQUENCE:0",
    "STATUS:CONFIRMED",
    "TRANSP:OPAQUE",
    "BEGIN:VALARM",
    "ACTION:DISPLAY",
    "DESCRIPTION:This is an event reminder",
    "TRIGGER:-P0DT0H10M0S",
    "END:VALARM",
]


def calendar_file(count: int, style: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Life OS eval//EN"]
    for n in range(count):
        day = f"2026{1 + n % 12:02d}{1 + n % 28:02d}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:eval-{n}@example.com",
            f"DTSTART:{day}T{8 + n % 9:02d}0000Z",
            f"DTEND:{day}T{9 + n % 9:02d}0000Z",
            f"SUMMARY:Meeting number {n}",
            "DESCRIPTION:Talk about the plan",
            "LOCATION:Room 4",
            *(["RRULE:FREQ=WEEKLY;COUNT=10"] if n % 10 == 0 else []),
            *(GOOGLE_EXTRA if style == "google" else ["DTSTAMP:20260101T000000Z"]),
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


async def timed_post(client: httpx.AsyncClient, headers: dict, body: bytes) -> tuple[float, float]:
    """Seconds the import took, and the event loop's longest stall meanwhile."""
    stalls: list[float] = []

    async def watch() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append(time.perf_counter() - started - 0.01)

    watcher = asyncio.create_task(watch())
    started = time.perf_counter()
    response = await client.post("/v1/calendar.ics", headers=headers, content=body)
    took = time.perf_counter() - started
    watcher.cancel()
    response.raise_for_status()
    return took, max(stalls, default=0.0)


async def run(count: int, style: str, database: str | None) -> None:
    body = calendar_file(count, style)
    async with service_with_user(database) as (services, user):
        headers = {"Authorization": f"Bearer {services.tokens.issue(user.id)}"}
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://eval") as client:
            for attempt in ("first import", "same file again"):
                took, stall = await timed_post(client, headers, body)
                print(
                    f"{attempt}: {count} events ({len(body) / 1e6:.1f} MB, {style}) in "
                    f"{took:.1f} s = {count / took:.0f} events/s; "
                    f"longest event-loop stall {stall:.2f} s"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--style", choices=["plain", "google"], default="plain")
    parser.add_argument("--database", help="default: a new SQLite file")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.style, args.database))


if __name__ == "__main__":
    main()
