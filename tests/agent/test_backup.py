"""Backup and restore: an archive made while the service writes restores onto a
fresh data directory (and database) with every kind of record readable through the
API, stored CalDAV and bank credentials included; a wrong passphrase or a changed
archive writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from agent.app import create_app
from agent.auth import TokenService
from agent.backup.archive import backup, restore
from agent.backup.databases import postgres_is_empty
from agent.backup.envelope import ArchiveError, WrongPassphrase
from agent.bootstrap import prepare_database
from agent.keys import credential_keys, file_store, token_secret
from agent.services import Services, build_assistant
from agent.settings import Settings
from intents.rules import RuleParser
from skills.finance.bank import plaid_client
from store.database import create_engine, session_factory
from store.repositories.users import list_users
from tests.agent.conftest import SECRET
from tests.agent.test_cli import environment, lifeos
from tests.conftest import DatabaseFactory
from tests.plaid_server import CLIENT_ID, GOOD_PUBLIC_TOKEN, PlaidFeed, plaid_server, transaction
from tests.plaid_server import SECRET as PLAID_SECRET
from tests.radicale_server import USERS

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
async def plaid(services: Services) -> AsyncIterator[str]:
    feed = PlaidFeed(pages=[([transaction("p1", 12.0, "NETFLIX", "2026-03-01")], [], [])])
    async with plaid_server(feed) as url:
        services.bank = plaid_client(url, CLIENT_ID, PLAID_SECRET)
        yield url


def source_settings(services: Services, engine: AsyncEngine) -> Settings:
    url = engine.url.render_as_string(hide_password=False)
    return services.settings.model_copy(update={"database_url": url})


async def seed(client: httpx.AsyncClient, auth: dict, calendar_url: str) -> dict:
    """One of every kind of record, through the API; what should come back."""
    task = await client.post(
        "/v1/tasks", headers=auth, json={"title": "Paint the fence", "list": "home"}
    )
    event = await client.post(
        "/v1/events",
        headers=auth,
        json={"title": "Dentist", "start_at": "2026-03-02T09:00:00-05:00", "duration_minutes": 30},
    )
    spent = await client.post(
        "/v1/transactions", headers=auth, json={"amount": "12.50", "merchant": "Cafe Luna"}
    )
    await client.post("/v1/projects", headers=auth, json={"name": "Deck", "hourly_rate": "95"})
    await client.post(
        "/v1/projects/deck/billables",
        headers=auth,
        json={"description": "Framing", "quantity": "3"},
    )
    invoice = await client.post("/v1/invoices", headers=auth, json={"project": "deck"})
    caldav = await client.put(
        "/v1/calendar/caldav",
        headers=auth,
        json={"url": calendar_url, "username": "ann", "password": USERS["ann"]},
    )
    bank = await client.post(
        "/v1/bank/links", headers=auth, json={"public_token": GOOD_PUBLIC_TOKEN}
    )
    for response in (task, event, spent, invoice, caldav, bank):
        assert response.status_code in (200, 201), response.text
    pdf = await client.get(f"/v1/invoices/{invoice.json()['id']}/pdf", headers=auth)
    return {
        "task": task.json()["id"],
        "event": event.json()["id"],
        "transaction": spent.json()["id"],
        "invoice": invoice.json()["id"],
        "pdf": pdf.content,
        "bank_link": bank.json()["link"]["id"],
    }


async def keep_writing(client: httpx.AsyncClient, auth: dict, stop: asyncio.Event) -> int:
    written = 0
    while not stop.is_set():
        made = await client.post("/v1/tasks", headers=auth, json={"title": f"busy {written}"})
        assert made.status_code == 201
        written += 1
    return written


async def restore_target(backend: str, databases: DatabaseFactory, folder: Path) -> Settings:
    """A new machine: an empty data directory, and an empty database on PostgreSQL."""
    url = None if backend == "sqlite" else await databases.new("postgresql")
    return Settings(data_dir=folder, database_url=url, jwt_secret=SECRET, caldav_allow_private=True)


@pytest.fixture
async def restored_client(rules: RuleParser, services: Services) -> AsyncIterator[object]:
    """Makes an API client on a restored target, as `lifeos serve` there would."""
    opened: list[AsyncEngine] = []

    async def open_client(target: Settings) -> httpx.AsyncClient:
        engine = create_engine(target.resolved_database_url)
        opened.append(engine)
        restored = Services(
            settings=target,
            engine=engine,
            sessions=session_factory(engine),
            tokens=TokenService(SECRET, timedelta(days=1)),
            keys=credential_keys(target),
            files=file_store(target),
            bank=services.bank,
        )
        restored.assistant = build_assistant(restored, rules)
        transport = httpx.ASGITransport(app=create_app(services=restored))
        return httpx.AsyncClient(transport=transport, base_url="http://restored.test")

    yield open_client
    for engine in opened:
        await engine.dispose()


async def test_backup_while_writing_then_restore_reads_everything_back(
    client: httpx.AsyncClient,
    auth: dict,
    services: Services,
    engine: AsyncEngine,
    backend: str,
    databases: DatabaseFactory,
    calendar_url: str,
    plaid: str,
    restored_client: object,
    tmp_path: Path,
) -> None:
    services.settings.caldav_allow_private = True
    made = await seed(client, auth, calendar_url)
    source = source_settings(services, engine)
    stop = asyncio.Event()
    writer = asyncio.create_task(keep_writing(client, auth, stop))
    await asyncio.sleep(0.2)
    result = await backup(source, tmp_path / "backups", PASSPHRASE)
    stop.set()
    written = await writer
    assert written > 0
    assert result.path.stat().st_mode & 0o077 == 0

    target = await restore_target(backend, databases, tmp_path / "new-machine")
    restored = await restore(result.path, PASSPHRASE, target)
    assert restored.credentials == 2  # the CalDAV password and the bank token open
    async with await restored_client(target) as api:  # type: ignore[operator]
        tasks = (await api.get("/v1/tasks", headers=auth)).json()
        # The archive is one moment: every task the manifest counted, no half of a write.
        assert len(tasks) == result.manifest["counts"]["tasks"] > 1
        assert made["task"] in {t["id"] for t in tasks}
        [home] = (await api.get("/v1/lists", headers=auth)).json()
        assert home["name"] == "home"
        event = await api.get(f"/v1/events/{made['event']}", headers=auth)
        assert event.json()["title"] == "Dentist"
        spent = await api.get(f"/v1/transactions/{made['transaction']}", headers=auth)
        assert spent.json()["amount"] == "12.50"
        pdf = await api.get(f"/v1/invoices/{made['invoice']}/pdf", headers=auth)
        assert pdf.status_code == 200 and pdf.content == made["pdf"]
        # Sealed credentials: a sync unseals them and signs in to the real servers.
        synced = await api.post("/v1/calendar/caldav/sync", headers=auth)
        assert synced.status_code == 200, synced.text
        pulled = await api.post(f"/v1/bank/links/{made['bank_link']}/sync", headers=auth)
        assert pulled.status_code == 200, pulled.text


async def test_wrong_passphrase_and_changed_archives_write_nothing(
    client: httpx.AsyncClient,
    auth: dict,
    services: Services,
    engine: AsyncEngine,
    backend: str,
    databases: DatabaseFactory,
    tmp_path: Path,
) -> None:
    await client.post("/v1/tasks", headers=auth, json={"title": "Keep me"})
    result = await backup(source_settings(services, engine), tmp_path / "b", PASSPHRASE)
    data = result.path.read_bytes()
    target = await restore_target(backend, databases, tmp_path / "fresh")

    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        await restore(result.path, "not the passphrase", target)
    assert not target.data_dir.exists()

    changed = tmp_path / "changed.backup"
    for damage, message in (
        (data[:200] + bytes([data[200] ^ 1]) + data[201:], "damaged or has been changed"),
        (data[: len(data) // 2], "cut short"),
        (data + b"more", "after its end"),
    ):
        changed.write_bytes(damage)
        with pytest.raises(ArchiveError, match=message):
            await restore(changed, PASSPHRASE, target)
        assert not any(p.name.endswith(".db") and p.stat().st_size for p in _files(target))
        assert not (target.data_dir / "credential-keys.json").exists()
        if backend == "postgresql":
            assert await postgres_is_empty(target.resolved_database_url)

    await restore(result.path, PASSPHRASE, target)
    with pytest.raises(ArchiveError, match="already holds data"):
        await restore(result.path, PASSPHRASE, target)
    await restore(result.path, PASSPHRASE, target, force=True)


def _files(settings: Settings) -> list[Path]:
    folder = settings.data_dir
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


async def test_the_commands_back_up_and_restore_a_data_directory(tmp_path: Path) -> None:
    """As an operator runs them: `lifeos backup` on one data directory, `lifeos
    restore` onto another; a wrong passphrase is one line and creates nothing."""
    old = Settings(data_dir=tmp_path / "old")
    ready = await prepare_database(old)  # as the first `lifeos serve` does
    assert ready.new_owner is not None
    token = TokenService(token_secret(old), timedelta(days=1)).issue(ready.new_owner.id)
    env = environment(old.data_dir)
    phrase = tmp_path / "passphrase"
    phrase.write_text(PASSPHRASE + "\n")
    made = await lifeos(
        env, "backup", "--to", str(tmp_path / "b"), "--passphrase-file", str(phrase)
    )
    assert made.code == 0, made.err
    [archive] = (tmp_path / "b").glob("lifeos-*.backup")

    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase")
    new = Settings(data_dir=tmp_path / "new")
    target = ("--data-dir", str(new.data_dir))
    refused = await lifeos(env, "restore", str(archive), *target, "--passphrase-file", str(wrong))
    assert refused.code == 2 and "wrong passphrase" in refused.err
    assert not new.data_dir.exists()

    env["LIFEOS_BACKUP_PASSPHRASE"] = PASSPHRASE  # the other way to give it
    done = await lifeos(env, "restore", str(archive), *target)
    assert done.code == 0, done.err
    assert "rows checked" in done.out
    engine = create_engine(new.resolved_database_url)
    try:
        async with session_factory(engine)() as db:
            [owner] = await list_users(db)
    finally:
        await engine.dispose()
    assert owner.id == ready.new_owner.id
    # The signing secret came along: a token from the old machine is accepted here.
    assert TokenService(token_secret(new), timedelta(days=1)).verify(token) == owner.id
