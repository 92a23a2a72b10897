"""A user's CalDAV address must not make the service probe its own network."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from skills import addresses
from skills.calendar import remote
from skills.calendar.remote import RemoteCalendar, is_public
from skills.context import Unavailable
from tests.radicale_server import USERS


class Recorder(ThreadingHTTPServer):
    """An HTTP server on loopback that notes every request; /moved redirects."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        self.server.paths.append(self.path)
        if self.path.startswith("/moved"):
            self.send_response(301)
            self.send_header("Location", f"{self.server.url}/inside/")
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PROPFIND = do_REPORT = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 (an address to refuse, not to bind)
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_only_global_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(address) is public


async def message(url: str) -> str:
    with pytest.raises(Unavailable) as refused:
        async with RemoteCalendar(url, "ann", "secret") as calendar:
            await calendar.objects()
    return str(refused.value).replace(url.rstrip("/") + "/", "URL")


async def test_internal_addresses_are_refused_alike_and_never_contacted(
    recorder: Recorder,
) -> None:
    port = recorder.server_port
    answers = {
        await message(url)
        for url in (
            f"{recorder.url}/dav/",  # open
            f"http://localhost:{port}/dav/",  # open, by name
            f"http://[::ffff:127.0.0.1]:{port}/dav/",
            "http://127.0.0.1:1/dav/",  # closed
            "http://169.254.169.254/latest/meta-data/",
            "http://unresolvable.invalid/dav/",
        )
    }
    assert recorder.paths == []
    assert answers == {
        "the calendar at URL cannot be reached, or is not a CalDAV calendar: "
        "check the address (a public one)"
    }


async def test_a_name_that_resolves_inside_on_connecting_is_refused(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def resolves_publicly(url: str) -> None:  # a DNS answer that changes in between
        return None

    monkeypatch.setattr(remote, "check_public", resolves_publicly)
    assert "cannot be reached" in await message(f"{recorder.url}/dav/")
    assert recorder.paths == []


def treat_loopback_as_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let 127.0.0.1 stand for a public server, in the check of the name and of each
    connection alike."""

    def public(address: str) -> bool:
        return address == "127.0.0.1"

    monkeypatch.setattr(addresses, "is_public", public)
    monkeypatch.setattr(remote, "is_public", public)


async def test_redirects_are_not_followed(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Let 127.0.0.1 stand for a public server; where a redirect leads is not checked
    # before it is followed (nor could it be, against a name that resolves anew).
    treat_loopback_as_public(monkeypatch)
    assert "cannot be reached" in await message(f"{recorder.url}/moved/")
    assert recorder.paths and set(recorder.paths) == {"/moved/"}  # never /inside/


async def test_private_addresses_when_allowed(recorder: Recorder) -> None:
    calendar = RemoteCalendar(f"{recorder.url}/dav/", "ann", "secret", allow_private=True)
    async with calendar:
        with pytest.raises(Unavailable):
            await calendar.objects()
    assert recorder.paths  # it was asked


async def test_a_public_server_works_through_the_checks(
    calendar_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Radicale on 127.0.0.1 stands for a public server: every request of a sync's
    # kinds (PROPFIND, REPORT, PUT, DELETE, on reused connections) passes the checks.
    treat_loopback_as_public(monkeypatch)
    event = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:g-1\r\n"
        "DTSTAMP:20260301T000000Z\r\nDTSTART:20260311T230000Z\r\nDTEND:20260312T000000Z\r\n"
        "SUMMARY:Gym\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    async with RemoteCalendar(calendar_url, "ann", USERS["ann"]) as calendar:
        assert await calendar.objects() == []
        saved = await calendar.put(event)
        [found] = await calendar.objects()
        assert "Gym" in found.data
        await calendar.delete(saved.href)
        assert await calendar.objects() == []
