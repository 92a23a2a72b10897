"""The worst requests one signed-in user can send, as data: each builds its payload,
sends it, and says what the service answered. `eval.abuse` runs them one at a time
while another user's `/healthz` is timed. Add an attack by appending to ATTACKS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import httpx
import websockets

Send = Callable[[httpx.AsyncClient, str], Awaitable[str]]


@dataclass(frozen=True)
class Attack:
    name: str
    what: str  # one line for the report
    send: Send  # (client with the hostile user's token, websocket base URL) -> outcome
    prepare: Callable[[], object] | None = None  # slow set-up, run before the clock starts


def _answer(response: httpx.Response) -> str:
    detail = response.text[:120].replace("\n", " ")
    return f"{response.status_code} {detail}"


async def nothing(_client: httpx.AsyncClient, _ws: str) -> str:
    """No attack: what the machine's own noise does to /healthz, for comparison."""
    await asyncio.sleep(5)
    return "5 s of quiet"


async def secondly_rule(client: httpx.AsyncClient, _ws: str) -> str:
    start = datetime.now(UTC).replace(microsecond=0)
    made = await client.post(
        "/v1/events",
        json={
            "title": "tick",
            "start_at": start.isoformat(),
            "duration_minutes": 1,
            "recurrence": "FREQ=SECONDLY",
        },
    )
    if made.status_code != 201:
        return f"event refused: {_answer(made)}"
    window = {"start": start.isoformat(), "end": (start + timedelta(days=30)).isoformat()}
    found = await client.get("/v1/events", params=window)
    count = len(found.json()) if found.status_code == 200 else None
    return f"event stored; 30-day query: {found.status_code}, {count} occurrences"


def ofx_statement(lines: int) -> bytes:
    rows = "".join(
        f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>2026{1 + n % 12:02d}{1 + n % 28:02d}"
        f"<TRNAMT>-{n % 500}.{n % 100:02d}<FITID>F{n}<NAME>MERCHANT NUMBER {n}</STMTTRN>\n"
        for n in range(lines)
    )
    return (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
        "CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX>\n"
        "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
        "<DTSERVER>20261130120000<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\n"
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\n"
        "<STMTRS><CURDEF>USD\n<BANKACCTFROM><BANKID>121000358<ACCTID>000999"
        "<ACCTTYPE>CHECKING</BANKACCTFROM>\n<BANKTRANLIST><DTSTART>20260101<DTEND>20261231\n"
        f"{rows}</BANKTRANLIST>\n<LEDGERBAL><BALAMT>0.00<DTASOF>20261231</LEDGERBAL>\n"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1>\n</OFX>\n"
    ).encode()


async def big_ofx(client: httpx.AsyncClient, _ws: str) -> str:
    data = ofx_statement(17_000)  # ~1.7 MB
    files = {"file": ("big.ofx", data, "application/x-ofx")}
    return f"{len(data) / 1e6:.1f} MB: {_answer(await client.post('/v1/imports', files=files))}"


def csv_statement() -> bytes:
    body = "date,description,amount\n" + "".join(
        f"2026-{1 + n % 12:02d}-{1 + n % 28:02d},Shop number {n},-{n % 300}.{n % 100:02d}\n"
        for n in range(20_000)
    )
    return body.encode()


async def csv_rows(client: httpx.AsyncClient, _ws: str) -> str:
    files = {"file": ("rows.csv", csv_statement(), "text/csv")}
    return _answer(await client.post("/v1/imports", files=files))


async def csv_rows_undone(client: httpx.AsyncClient, _ws: str) -> str:
    files = {"file": ("rows.csv", csv_statement(), "text/csv")}
    imported = await client.post("/v1/imports", files=files)
    started = time.perf_counter()
    undone = await client.post("/v1/undo")
    took = time.perf_counter() - started
    return f"import {imported.status_code}; undo {_answer(undone)[:60]} in {took:.1f} s"


async def slow_body(client: httpx.AsyncClient, _ws: str) -> str:
    """A POST whose headers arrive at once and whose body then comes a byte a second."""
    url = httpx.URL(str(client.base_url))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        b"POST /v1/tasks HTTP/1.1\r\nHost: lifeos\r\ncontent-type: application/json\r\n"
        b"authorization: %s\r\ncontent-length: 10000\r\n\r\n"
        % client.headers["Authorization"].encode()
    )
    started = time.perf_counter()
    answer = b""
    with contextlib.suppress(ConnectionError):
        while not reader.at_eof():
            try:
                answer += await asyncio.wait_for(reader.read(4096), timeout=1)
            except TimeoutError:
                writer.write(b" ")
                await writer.drain()
    writer.close()
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "nothing"
    return f"{status}, closed after {time.perf_counter() - started:.0f} s"


async def many_events_ics(client: httpx.AsyncClient, _ws: str) -> str:
    events = "".join(
        "BEGIN:VEVENT\r\n"
        f"UID:bulk-{n}@abuse.test\r\nDTSTAMP:20261130T120000Z\r\n"
        f"DTSTART:2027{1 + n % 12:02d}{1 + n % 28:02d}T{n % 24:02d}0000Z\r\n"
        f"DURATION:PT30M\r\nSUMMARY:Meeting {n}\r\nEND:VEVENT\r\n"
        for n in range(10_000)
    )
    body = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//abuse//EN\r\n{events}END:VCALENDAR\r\n"
    answer = await client.post(
        "/v1/calendar.ics", content=body.encode(), headers={"content-type": "text/calendar"}
    )
    return _answer(answer)


@cache
def _speech() -> bytes:
    """A spoken command at 16 kHz, made once with the service's own voice."""
    import numpy as np

    from speech.tts import PiperTTS

    said = PiperTTS().synthesize_now("add milk to my shopping list", steady=True)
    voice = said.resampled(16000).pcm
    return voice + np.zeros(16000, dtype="<i2").tobytes()  # and a second of silence


async def voice_flood(_client: httpx.AsyncClient, ws: str) -> str:
    """60 s of speech sent as fast as the socket takes it, in 1 s frames."""
    speech = await asyncio.to_thread(_speech)
    audio = (speech * (60 * 32000 // len(speech) + 1))[: 60 * 32000]
    token = _client.headers["Authorization"].removeprefix("Bearer ")
    started = time.perf_counter()
    events: list[str] = []
    async with websockets.connect(f"{ws}/v1/voice?token={token}", max_size=None) as socket:
        for at in range(0, len(audio), 32000):
            await socket.send(audio[at : at + 32000])
        sent = time.perf_counter() - started
        with contextlib.suppress(TimeoutError, websockets.ConnectionClosed):
            async with asyncio.timeout(15):
                async for message in socket:
                    if isinstance(message, str):
                        events.append(json.loads(message).get("type", "?"))
    closed = f"closed {socket.close_code} {socket.close_reason or ''}".strip()
    return f"60 s of audio sent in {sent:.2f} s; events: {_summary(events)}; {closed}"


def _summary(events: list[str]) -> str:
    counts: dict[str, int] = {}
    for name in events:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{k}×{v}" for k, v in counts.items()) or "none"


ATTACKS: list[Attack] = [
    Attack("nothing", "no attack, 5 s (the control)", nothing),
    Attack("secondly_rrule", "FREQ=SECONDLY event, then a 30-day calendar query", secondly_rule),
    Attack("big_ofx", "a 1.7 MB OFX statement (17,000 lines)", big_ofx),
    Attack("csv_20k", "a 20,000-row CSV statement", csv_rows),
    Attack("csv_20k_undo", "a 20,000-row CSV imported, then undone", csv_rows_undone),
    Attack("ics_10k", "a 10,000-event .ics import", many_events_ics),
    Attack("slow_body", "a request body sent a byte a second", slow_body),
    Attack("voice_flood", "60 s of speech over /v1/voice as fast as it goes", voice_flood, _speech),
]


def by_name(names: list[str] | None) -> list[Attack]:
    if not names:
        return ATTACKS
    known = {attack.name: attack for attack in ATTACKS}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown attack {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]
