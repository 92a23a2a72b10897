"""The web page is served by the app; its scripts parse."""

from __future__ import annotations

import asyncio
import shutil

import httpx
import pytest

from speech.web import WEB_PAGE


async def test_the_page_and_its_scripts_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="voice"' in page.text and "/web/app.js" in page.text
    for asset, kind in (
        ("app.js", "javascript"),
        ("capture-worklet.js", "javascript"),
        ("style.css", "text/css"),
    ):
        response = await client.get(f"/web/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert (await client.get("/web/../agent/app.py")).status_code == 404


@pytest.mark.parametrize("script", ["app.js", "capture-worklet.js"])
async def test_scripts_are_valid_javascript(script: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    process = await asyncio.create_subprocess_exec(
        node, "--check", str(WEB_PAGE / script), stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()
