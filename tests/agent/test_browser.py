"""The voice button in a real browser: headless Chromium plays a WAV file as the
microphone, and the spoken command ends up as a task, answered out loud."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.async_api import Page, async_playwright

from agent.app import create_app
from agent.services import Services
from speech.audio import Audio, write_wav
from speech.tts import PiperTTS
from store.models import User
from tests.agent.conftest import PASSWORD, give_password
from tests.local_server import serve
from tests.smtp_server import Inbox
from tests.twilio_server import FakeTwilio

CHROMIUM = shutil.which("chromium")
QUIET = [  # headless, and nothing reached for but the service under test
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
]

# On CI the browser is installed by .ci/run, so a missing one is a failure, not a skip.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
)


@pytest.fixture
async def base_url(services: Services, voice_models: tuple) -> AsyncIterator[str]:
    services._voice = voice_models  # the run's models, not a second copy
    async with serve(create_app(services=services)) as url:
        yield url


def microphone_file(piper: PiperTTS, folder: Path) -> Path:
    speech = piper.synthesize_now("Add milk to my shopping list.", steady=True).resampled(16000)
    quiet = np.zeros(16000, dtype="<i2").tobytes()
    path = folder / "microphone.wav"
    path.write_bytes(write_wav(Audio(quiet + speech.pcm + quiet * 4, 16000)))
    return path


async def wait_until(page: Page, expression: str, seconds: float = 10) -> None:
    """Poll from outside the page: Playwright's wait_for_function evaluates its
    predicate inside the page, which the page's CSP (no eval) refuses."""
    for _ in range(int(seconds / 0.1)):
        if await page.evaluate(expression):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never true: {expression}")


async def test_speaking_into_the_page_creates_the_task(
    base_url: str, services: Services, user: User, auth: dict, piper: PiperTTS, tmp_path: Path
) -> None:
    wav = microphone_file(piper, tmp_path)
    await give_password(services, user)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *QUIET,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={wav}%noloop",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            page = await browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            await page.goto(f"{base_url}/?raw=1")
            await page.fill("#login", "ann@example.com")
            await page.fill("#password", PASSWORD)
            await page.click("#signin button[type=submit]")
            await wait_until(page, "document.getElementById('who').textContent.includes('@')")
            await page.check("#handsfree")  # streams the microphone from now on
            await wait_until(
                page, "window.lifeos.events.some(e => e.type === 'audio_end')", seconds=45
            )
            said = await page.text_content("#said")
            samples = await page.evaluate("window.lifeos.audioSamples")
            await wait_until(page, "document.getElementById('tasks').textContent.includes('milk')")
            async with httpx.AsyncClient(base_url=base_url) as client:
                tasks = (await client.get("/v1/tasks", headers=auth)).json()
            session_cookies = {c["name"]: c for c in await page.context.cookies()}
            stored = await page.evaluate("[localStorage.length, sessionStorage.length]")
            await page.click("#signout")
            await wait_until(page, "document.getElementById('who').textContent === 'Signed out.'")
            after = await page.evaluate("fetch('/v1/me').then((r) => r.status)")
        finally:
            await browser.close()
    # The page, its worklet and its socket work under the service's own CSP.
    assert not [line for line in console if "Content Security Policy" in line]
    assert said == "Added milk to your shopping list."
    assert samples > 8000  # the reply audio reached the page
    assert [(t["title"], t["list"]) for t in tasks] == [("milk", "shopping")]
    # Signed in by a cookie the page's script cannot read, and nothing kept in storage.
    assert session_cookies["lifeos_session"]["httpOnly"] and stored == [0, 0]
    assert session_cookies["lifeos_session"]["sameSite"] == "Strict"
    # Signed out: the server no longer takes the page's session.
    assert after == 401


async def test_an_owner_invites_someone_who_joins_and_signs_in_on_their_own_page(
    base_url: str, services: Services, user: User, outside: tuple[Inbox, FakeTwilio]
) -> None:
    inbox, _ = outside
    await give_password(services, user)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET)
        try:
            ann = await (await browser.new_context()).new_page()
            await ann.goto(base_url)
            await ann.fill("#login", "ann@example.com")
            await ann.fill("#password", PASSWORD)
            await ann.click("#signin button[type=submit]")
            await wait_until(ann, "document.getElementById('who').textContent.includes('@')")
            await ann.fill("#invitee", "bob@example.com")
            await ann.click("#invite button")
            await wait_until(ann, "document.getElementById('invited').textContent !== ''")
            invited = await ann.text_content("#invited")
            link = re.search(r"http://\S+/#invite=[A-Z0-9]+", inbox.last_to("bob@example.com"))
            assert link, inbox.last_to("bob@example.com")

            bob = await (await browser.new_context()).new_page()  # another person's browser
            await bob.goto(link.group(0))
            await bob.fill("#newpassword", "bobs own password")
            await bob.click("#setpassword button")
            await wait_until(bob, "document.getElementById('who').textContent.includes('@')")
            joined_as = await bob.text_content("#who")
            await bob.click("#signout")
            await wait_until(bob, "document.getElementById('who').textContent === 'Signed out.'")
            await bob.fill("#login", "bob@example.com")
            await bob.fill("#password", "bobs own password")
            await bob.click("#signin button[type=submit]")
            await wait_until(bob, "document.getElementById('who').textContent.includes('@')")
            again_as = await bob.text_content("#who")
            households = await bob.evaluate(
                "fetch('/v1/households').then((r) => r.json()).then((h) => h.map((x) => x.name))"
            )
        finally:
            await browser.close()
    assert invited == "Invitation sent by email to bob@example.com."
    assert joined_as == again_as == "bob@example.com"
    assert len(households) == 2  # his own, and Ann's he joined
