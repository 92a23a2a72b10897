"""`lifeos keys rotate`: stored credentials are re-sealed under a new key and still
work, through the running service; the old key no longer opens them; tokens and the
token secret are untouched; values sealed before key ids existed come along too."""

from __future__ import annotations

import base64
import copy
import stat

import httpx
import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from agent.keys import SEALED_COLUMNS, RotationError, credential_keys, derive_key, rotate
from agent.services import Services
from skills.sealing import KeyRing, key_id_of
from store.models import User
from store.models.calendar import CalendarAccount
from tests.agent.conftest import SECRET
from tests.agent.test_backup import plaid  # noqa: F401 (a fixture)
from tests.agent.test_cli import environment, lifeos
from tests.plaid_server import GOOD_PUBLIC_TOKEN
from tests.radicale_server import USERS


async def sealed_values(services: Services) -> list[str]:
    async with services.sessions() as db:
        return [
            getattr(row, column)
            for model, column in SEALED_COLUMNS
            for row in (await db.exec(select(model))).all()
        ]


async def test_rotate_reseals_and_retires_the_old_key(
    client: httpx.AsyncClient,
    auth: dict,
    services: Services,
    engine: AsyncEngine,
    calendar_url: str,
    plaid: str,  # noqa: F811
) -> None:
    services.settings.caldav_allow_private = True
    connected = await client.put(
        "/v1/calendar/caldav",
        headers=auth,
        json={"url": calendar_url, "username": "ann", "password": USERS["ann"]},
    )
    linked = await client.post(
        "/v1/bank/links", headers=auth, json={"public_token": GOOD_PUBLIC_TOKEN}
    )
    services.settings.webhook_allow_networks = "127.0.0.1"
    hooked = await client.post("/v1/webhooks", headers=auth, json={"url": "http://127.0.0.1:9/"})
    assert connected.status_code == 200 and linked.status_code == 201
    assert hooked.status_code == 201, hooked.text
    # One value as an older version sealed it: no key id, the key from the token secret.
    legacy = Fernet(base64.urlsafe_b64encode(derive_key(SECRET, "credentials")))
    async with services.sessions() as db:
        account = (await db.exec(select(CalendarAccount))).one()
        account.password_sealed = legacy.encrypt(USERS["ann"].encode()).decode()
        db.add(account)
        await db.commit()
    old_ring = copy.deepcopy(services.keys)
    old_key = old_ring.current

    env = environment(services.settings.data_dir, engine.url.render_as_string(hide_password=False))
    env["LIFEOS_JWT_SECRET"] = SECRET
    done = await lifeos(env, "keys", "rotate")
    assert done.code == 0, done.err
    assert "Re-sealed 3 stored credentials" in done.out and f"retired {old_key}" in done.out

    values = await sealed_values(services)
    new_key = {key_id_of(value) for value in values}
    assert len(new_key) == 1 and None not in new_key and old_key not in new_key
    for value in values:
        with pytest.raises(InvalidToken):
            old_ring.unseal(value)
    key_file = services.settings.key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert old_key not in key_file.read_text()

    # The running service picks up the new key without a restart, and its tokens work.
    synced = await client.post("/v1/calendar/caldav/sync", headers=auth)
    assert synced.status_code == 200, synced.text
    link_id = linked.json()["link"]["id"]
    pulled = await client.post(f"/v1/bank/links/{link_id}/sync", headers=auth)
    assert pulled.status_code == 200, pulled.text
    assert (await client.get("/v1/me", headers=auth)).status_code == 200


async def test_a_credential_no_key_opens_stops_rotation_and_changes_nothing(
    services: Services, engine: AsyncEngine, user: User
) -> None:
    stranger = KeyRing.single(bytes(32), "elsewhere").seal("hunter2")
    async with services.sessions() as db:
        db.add(
            CalendarAccount(
                user_id=user.id,
                url="https://dav.example.com/",
                username="ann",
                password_sealed=stranger,
            )
        )
        await db.commit()
    with pytest.raises(RotationError, match="opens with no key"):
        await rotate(engine, credential_keys(services.settings, SECRET))
    assert await sealed_values(services) == [stranger]
