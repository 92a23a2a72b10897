"""Shared fixtures: the store on SQLite and on the real PostgreSQL, and a guard
that fails any test leaving asyncio tasks behind."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from caldav import aio
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from intents.rules import RuleParser
from speech.stt import WhisperSTT
from speech.tts import PiperTTS
from store import migrate
from store.database import create_engine, session_factory
from store.models import metadata
from tests.radicale_server import USERS, radicale

POSTGRES_ADMIN_URL = os.environ.get(
    "LIFEOS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


class DatabaseFactory:
    """Makes fresh, empty databases for one test run and drops them all at the end."""

    def __init__(self, tmp: Path) -> None:
        self._tmp = tmp
        self._pg_names: list[str] = []

    async def new(self, backend: str) -> str:
        name = f"lifeos_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{self._tmp / name}.db"
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self._pg_names.append(name)
        admin = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        return f"{admin.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"

    async def drop_all(self) -> None:
        if not self._pg_names:
            return
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            for name in self._pg_names:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    yield factory
    await factory.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
async def engine(
    request: pytest.FixtureRequest, databases: DatabaseFactory
) -> AsyncIterator[AsyncEngine]:
    """A migrated database per backend, shared by the run; tests leave it empty."""
    url = await databases.new(request.param)
    engine = create_engine(url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        yield session
    await empty_tables(engine)


async def empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(delete(table))


@pytest.fixture
def backend(engine: AsyncEngine) -> str:
    return engine.dialect.name


def _limits_timer(task: asyncio.Task) -> bool:
    return getattr(task.get_coro(), "__qualname__", "") == "MemoryStorage.__expire_events"


@pytest.fixture(autouse=True)
async def no_pending_tasks() -> AsyncIterator[None]:
    """Fail a test that leaves asyncio tasks running: they leak work and resources."""
    before = {t for t in asyncio.all_tasks() if not t.done()}
    yield
    await asyncio.sleep(0)
    current = asyncio.current_task()
    leaked = [
        t for t in asyncio.all_tasks() if not t.done() and t not in before and t is not current
    ]
    # The `limits` library's in-memory storage sweeps expired hits on a task of its own,
    # cancelled only when the storage is collected: its timer, not a leak of ours.
    leaked = [t for t in leaked if not _limits_timer(t)]
    for task in leaked:
        task.cancel()
    assert not leaked, f"test left asyncio tasks pending: {leaked}"


@pytest.fixture(scope="session")
async def caldav_base(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A real Radicale CalDAV server for this run, started the first time a test asks."""
    async with radicale(tmp_path_factory.mktemp("radicale")) as url:
        yield url


@pytest.fixture
async def calendar_url(caldav_base: str) -> str:
    """A new, empty calendar for the CalDAV user ann."""
    async with aio.AsyncDAVClient(url=caldav_base, username="ann", password=USERS["ann"]) as client:
        principal = await client.get_principal()
        calendar = await principal.make_calendar(name="Work", cal_id=uuid.uuid4().hex)
        return str(calendar.url)


@pytest.fixture(scope="session")
def rules() -> RuleParser:
    """The grammar (and spaCy) loaded once for the whole run."""
    return RuleParser()


@pytest.fixture(scope="session")
def piper() -> PiperTTS:
    """Piper and its voice, loaded once for the whole run."""
    return PiperTTS()


@pytest.fixture(scope="session")
def whisper() -> WhisperSTT:
    """Whisper tiny.en, loaded once for the whole run."""
    return WhisperSTT("tiny.en")


@pytest.fixture(scope="session")
def voice_models(whisper: WhisperSTT, piper: PiperTTS) -> tuple[WhisperSTT, PiperTTS, dict]:
    """What the service loads for voice, made once for the run."""
    from speech.logs import quiet_pipecat
    from speech.pipeline import phrase_cache

    quiet_pipecat()
    return whisper, piper, phrase_cache(piper)


# Tests that speak, listen or time themselves in real time: they run after the rest
# (README: `-m realtime`), two at a time, so that other tests' work does not take the
# CPU a live turn needs. The rest run in parallel, a file per process at a time. The
# latency harness is not among them: it runs three servers of its own (the heaviest CPU
# load of the suite, which starved live turns beside it) and asserts no timing.
REALTIME_FILES = (
    "tests/eval/test_baseline.py",
    "tests/eval/test_speculative.py",
    "tests/eval/test_real_voices.py",
    "tests/eval/test_turn_end.py",
    "tests/speech/test_endpoint.py",
    "tests/speech/test_engines.py",
    "tests/agent/test_voice.py",
    "tests/agent/test_talk.py",
    "tests/agent/test_call.py",
    "tests/agent/test_speaker.py",
    "tests/agent/test_browser.py",
    "tests/agent/test_livekit.py",
    "tests/agent/test_speculative_reply.py",
    "tests/agent/test_imports_api.py",
    "tests/agent/test_abuse.py",
    "tests/telephony/test_stream.py",
)
# In each part the files that take minutes go first: a long file started last keeps one
# process busy after the others are done.
SLOW_FILES = (
    "tests/eval/test_harness.py",
    "tests/agent/test_cli.py",
    "tests/telephony/test_reminder_delivery.py",
    "tests/agent/test_crash.py",
    "tests/agent/test_several.py",
    "tests/agent/test_fuzz_api.py",
    "tests/agent/test_cluster.py",
    "tests/agent/test_reminders.py",
    # the real-time part's
    "tests/agent/test_voice.py",
    "tests/agent/test_speaker.py",
    "tests/agent/test_livekit.py",
    "tests/telephony/test_stream.py",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "realtime: speaks, listens or times itself live")
    # pytest-xdist hands out files with the most tests first unless told not to; the
    # order that matters here is SLOW_FILES' (the harness is one test of minutes).
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(tryfirst=True)  # before `-m` chooses by the marks
def pytest_itemcollected(item: pytest.Item) -> None:
    if item.nodeid.split("::")[0] in REALTIME_FILES:
        item.add_marker(pytest.mark.realtime)


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by database
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
