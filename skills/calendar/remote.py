"""A CalDAV calendar collection, through the caldav library's async client.

The address comes from a user, so by default it may only lead to the public
internet (skills/addresses.py): a host name is resolved and every address it has
must be global, each connection is checked again just before a request goes out on
it, and redirects are not followed.
Whatever goes wrong short of a server refusing the password, the user hears one
message, so nobody can map which hosts and ports answer from inside."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

from caldav import aio
from caldav.elements import dav
from caldav.lib import error as caldav_error

from skills.addresses import RefusedTarget, check_public, is_public
from skills.context import SkillError, Unavailable

TIMEOUT_SECONDS = 15


class _GuardedClient(aio.AsyncDAVClient):
    """The caldav client, with every connection's real address checked before a
    request is written to it, and redirects refused rather than followed."""

    def _create_session(self) -> None:
        super()._create_session()
        self.session.hooks["pre_send"].append(_check_connection)
        self.session.hooks["response"].append(_refuse_redirect)


def _check_connection(request: Any, **_: Any) -> None:
    info = getattr(request, "conn_info", None)
    address = getattr(info, "destination_address", None)
    if not address or not is_public(str(address[0])):
        raise RefusedTarget(str(request.url))


def _refuse_redirect(response: Any, **_: Any) -> None:
    if response.is_redirect:  # its target would be connected to unchecked
        raise RefusedTarget(str(response.url))


@dataclass(frozen=True)
class RemoteObject:
    href: str
    etag: str | None
    data: str  # one VCALENDAR


class RemoteCalendar:
    """The few operations sync needs; every failure becomes a SkillError that says
    what went wrong in words a user can act on."""

    def __init__(
        self, url: str, username: str, password: str, *, allow_private: bool = False
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        client = aio.AsyncDAVClient if allow_private else _GuardedClient
        self._client = client(
            url=self.url,
            username=username,
            password=password,
            timeout=TIMEOUT_SECONDS,
            enable_rfc6764=False,  # the address given, never one discovered from it
        )
        self._calendar = aio.Calendar(client=self._client, url=self.url)
        self._allow_private = allow_private
        self._checked = allow_private

    async def __aenter__(self) -> RemoteCalendar:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.close()

    async def _check(self) -> None:
        if not self._checked:
            await check_public(self.url)
            self._checked = True

    async def objects(self) -> list[RemoteObject]:
        try:
            await self._check()
            found = await self._calendar.events()
        except Exception as exc:
            raise self._explain(exc) from exc
        return [RemoteObject(str(item.url), item.etag, item.data) for item in found]

    async def put(
        self, data: str, href: str | None = None, etag: str | None = None
    ) -> RemoteObject:
        """Create (no href) or overwrite; an etag makes the overwrite conditional."""
        try:
            await self._check()
            if href is None:
                saved = await self._calendar.save_event(data)
            else:
                saved = aio.Event(client=self._client, url=href, data=data, parent=self._calendar)
                if etag:
                    saved.props[dav.GetEtag.tag] = etag
                await saved.save()
        except Exception as exc:
            raise self._explain(exc) from exc
        return RemoteObject(str(saved.url), saved.etag, data)

    async def delete(self, href: str) -> None:
        try:
            await self._check()
            await aio.Event(client=self._client, url=href, parent=self._calendar).delete()
        except caldav_error.NotFoundError:
            return  # already gone: that is what we wanted
        except Exception as exc:
            raise self._explain(exc) from exc

    def _explain(self, exc: Exception) -> SkillError:
        if isinstance(exc, caldav_error.AuthorizationError):
            return SkillError(f"the calendar server at {self.url} refused the username or password")
        # One answer for a refused address, a closed or silent port, a server that is
        # not CalDAV, a missing calendar: the upstream error is never echoed.
        return Unavailable(
            f"the calendar at {self.url} cannot be reached, or is not a CalDAV calendar: "
            "check the address" + ("" if self._allow_private else " (a public one)")
        )
