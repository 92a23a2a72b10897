"""Connecting a CalDAV calendar must not let a user probe the service's own network."""

from __future__ import annotations

import httpx

from agent.services import Services
from tests.radicale_server import USERS


async def connect(client: httpx.AsyncClient, auth: dict, url: str) -> httpx.Response:
    return await client.put(
        "/v1/calendar/caldav",
        headers=auth,
        json={"url": url, "username": "ann", "password": USERS["ann"]},
    )


async def test_internal_addresses_are_refused_with_one_answer(
    client: httpx.AsyncClient, auth: dict, calendar_url: str, caldav_base: str
) -> None:
    port = caldav_base.rsplit(":", 1)[1].split("/")[0]
    answers = set()
    for url in (
        calendar_url,  # a real calendar, with the right password, on loopback
        f"http://localhost:{port}/ann/",  # open port, by name
        "http://127.0.0.1:1/dav/",  # closed port
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://10.255.255.1/dav/",  # private range
        "http://[::1]:1/dav/",
    ):
        response = await connect(client, auth, url)
        assert response.status_code == 502, (url, response.text)
        answers.add(response.json()["detail"].replace(url.rstrip("/") + "/", "URL"))
    assert answers == {
        "the calendar at URL cannot be reached, or is not a CalDAV calendar: "
        "check the address (a public one)"
    }
    assert (await client.get("/v1/calendar/caldav", headers=auth)).status_code == 404


async def test_private_addresses_when_the_service_allows_them(
    client: httpx.AsyncClient, auth: dict, calendar_url: str, services: Services
) -> None:
    services.settings.caldav_allow_private = True
    assert (await connect(client, auth, calendar_url)).status_code == 200
    assert (await client.post("/v1/calendar/caldav/sync", headers=auth)).status_code == 200
    services.settings.caldav_allow_private = False  # a sync checks again, with the same answer
    refused = await client.post("/v1/calendar/caldav/sync", headers=auth)
    assert refused.status_code == 502 and "cannot be reached" in refused.text
