"""Statement imports at size: how long a large CSV or OFX upload takes through the
HTTP API, in rows per second, and how long another user's /healthz waits meanwhile.

    uv run python -m eval.imports [--rows 20000] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date, timedelta

import httpx

from agent.app import create_app
from eval.local import service_with_user

MERCHANTS = [
    "CARD 1234 BLUE BOTTLE SF",
    "WHOLE FOODS MKT #102",
    "SHELL OIL 5741",
    "HOME DEPOT #455",
    "NETFLIX.COM",
    "CORNER BISTRO",
    "ACME PAYROLL",
    "UNKNOWN VENDOR {n}",
]


def statement_lines(rows: int) -> list[tuple[date, str, str]]:
    """Distinct lines (day, description, signed amount), a few a day, mostly spending."""
    start = date(2020, 1, 1)
    lines = []
    for n in range(rows):
        merchant = MERCHANTS[n % len(MERCHANTS)].format(n=n % 97)
        cents = 100 + (n * 7919) % 50_000
        sign = "" if merchant == "ACME PAYROLL" else "-"
        lines.append(
            (start + timedelta(days=n // 5), merchant, f"{sign}{cents // 100}.{cents % 100:02d}")
        )
    return lines


def csv_statement(rows: int) -> bytes:
    body = "".join(f"{d.isoformat()},{m},{a}\n" for d, m, a in statement_lines(rows))
    return ("Date,Description,Amount\n" + body).encode()


def ofx_statement(rows: int) -> bytes:
    transactions = "".join(
        f"<STMTTRN><TRNTYPE>{'CREDIT' if not a.startswith('-') else 'DEBIT'}"
        f"<DTPOSTED>{d:%Y%m%d}<TRNAMT>{a}<FITID>T{n}<NAME>{m}</STMTTRN>\n"
        for n, (d, m, a) in enumerate(statement_lines(rows))
    )
    return (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
        "CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX>\n"
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\n"
        "<STMTRS><CURDEF>USD\n<BANKACCTFROM><BANKID>121000358<ACCTID>000123456789"
        "<ACCTTYPE>CHECKING</BANKACCTFROM>\n<BANKTRANLIST><DTSTART>20200101<DTEND>20300101\n"
        f"{transactions}</BANKTRANLIST>\n<LEDGERBAL><BALAMT>1000.00<DTASOF>20300101</LEDGERBAL>\n"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1>\n</OFX>\n"
    ).encode()


async def _healthz_worst(client: httpx.AsyncClient, done: asyncio.Event) -> float:
    """How late, at worst, a /healthz asked every 20 ms while the upload runs is
    answered, in milliseconds: the wait another user would see. Lateness counts from
    when the request was due, so a stalled event loop shows however it stalls."""
    worst, interval = 0.0, 0.02
    due = time.perf_counter()
    while not done.is_set():
        await client.get("/healthz")
        answered = time.perf_counter()
        worst = max(worst, (answered - due) * 1000)
        await asyncio.sleep(interval)
        due = answered + interval
    return worst


async def _upload(
    client: httpx.AsyncClient, auth: dict, name: str, data: bytes
) -> tuple[httpx.Response, float, float]:
    done = asyncio.Event()
    probe = asyncio.create_task(_healthz_worst(client, done))
    started = time.perf_counter()
    try:
        response = await client.post(
            "/v1/imports", headers=auth, files={"file": (name, data)}, timeout=None
        )
    finally:
        elapsed = time.perf_counter() - started
        done.set()
    return response, elapsed, await probe


async def run(rows: int, database: str | None) -> None:
    async with service_with_user(database) as (services, user):
        auth = {"Authorization": f"Bearer {services.tokens.issue(user.id)}"}
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for name, data in (
                ("big.csv", csv_statement(rows)),
                ("big.ofx", ofx_statement(rows)),
                ("again.csv", csv_statement(rows)),  # every line a duplicate
            ):
                response, seconds, worst = await _upload(client, auth, name, data)
                print(
                    f"{name}: {len(data) / 1e6:.1f} MB, {rows} rows, HTTP "
                    f"{response.status_code} {response.text[:120]} in {seconds:.2f} s "
                    f"({rows / seconds:,.0f} rows/s); worst /healthz {worst:.0f} ms"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database", help="default: a SQLite file in a temporary directory")
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.database))


if __name__ == "__main__":
    main()
