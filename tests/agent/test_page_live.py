"""The page in a real browser follows changes live: Bob changes the family's shopping
list by REST, and it shows on Ann's open page without her doing anything."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import WebSocketRoute, async_playwright

from agent.app import create_app
from agent.services import Services
from store.models import User
from tests.agent.conftest import PASSWORD, give_password
from tests.agent.graphql_client import family_member
from tests.agent.test_browser import CHROMIUM, wait_until
from tests.agent.test_graphql_live import until
from tests.local_server import serve

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


@pytest.fixture
async def base_url(services: Services) -> AsyncIterator[str]:
    async with serve(create_app(services=services)) as url:
        yield url


async def quiet_voice(socket: WebSocketRoute) -> None:
    """The voice socket stands in: this test is about the panels, not speech (the
    real one would load Whisper and Piper)."""


async def test_a_housemates_change_shows_on_the_open_page(
    client: httpx.AsyncClient, base_url: str, services: Services, auth: dict, user: User
) -> None:
    bob, _, _ = await family_member(client, services, auth, "member")
    await give_password(services, user)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        try:
            page = await browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            await page.route_web_socket(re.compile(r".*/v1/voice.*"), quiet_voice)
            await page.goto(base_url)
            await page.fill("#login", user.email)
            await page.fill("#password", PASSWORD)
            await page.click("#signin button[type=submit]")
            await wait_until(page, "document.getElementById('tasks').textContent.includes('milk')")
            await wait_until(page, "window.lifeos.live")
            await until(lambda: services.changes.subscribers > 0)  # type: ignore[attr-defined]

            async with httpx.AsyncClient(base_url=base_url) as bobs_phone:
                added = await bobs_phone.post(
                    "/v1/tasks", headers=bob, json={"title": "eggs", "list": "family shopping"}
                )
            assert added.status_code == 201, added.text
            await wait_until(page, "document.getElementById('tasks').textContent.includes('eggs')")
            shown = await page.locator("#tasks li").all_text_contents()
        finally:
            await browser.close()
    assert sorted(shown) == ["eggs (shopping)", "milk (shopping)"]
    assert not [line for line in console if "Content Security Policy" in line]
