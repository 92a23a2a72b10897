"""A CalDAV calendar collection, through the caldav library's async client."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from caldav import aio
from caldav.elements import dav
from caldav.lib import error as caldav_error

from skills.context import SkillError, Unavailable

TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class RemoteObject:
    href: str
    etag: str | None
    data: str  # one VCALENDAR


class RemoteCalendar:
    """The few operations sync needs; every failure becomes a SkillError that says
    what went wrong in words a user can act on."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self._client = aio.AsyncDAVClient(
            url=self.url, username=username, password=password, timeout=TIMEOUT_SECONDS
        )
        self._calendar = aio.Calendar(client=self._client, url=self.url)

    async def __aenter__(self) -> RemoteCalendar:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.close()

    async def objects(self) -> list[RemoteObject]:
        try:
            found = await self._calendar.events()
        except Exception as exc:
            raise self._explain(exc) from exc
        return [RemoteObject(str(item.url), item.etag, item.data) for item in found]

    async def put(
        self, data: str, href: str | None = None, etag: str | None = None
    ) -> RemoteObject:
        """Create (no href) or overwrite; an etag makes the overwrite conditional."""
        try:
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
            await aio.Event(client=self._client, url=href, parent=self._calendar).delete()
        except caldav_error.NotFoundError:
            return  # already gone: that is what we wanted
        except Exception as exc:
            raise self._explain(exc) from exc

    def _explain(self, exc: Exception) -> SkillError:
        if isinstance(exc, caldav_error.AuthorizationError):
            return SkillError(f"the calendar server at {self.url} refused the username or password")
        if isinstance(exc, caldav_error.NotFoundError):
            return SkillError(f"there is no calendar at {self.url}")
        if isinstance(exc, caldav_error.DAVError):
            return Unavailable(f"the calendar server at {self.url} answered with an error: {exc}")
        return Unavailable(f"the calendar server at {self.url} cannot be reached: {exc}")
