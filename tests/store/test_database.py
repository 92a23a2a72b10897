"""Transactions on the embedded and the server database."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.database import check_connection


async def test_health_check_answers_while_a_writer_holds_the_database(engine: AsyncEngine) -> None:
    async with engine.begin() as writer:  # on SQLite this holds the write lock
        await writer.execute(text("SELECT 1"))
        await asyncio.wait_for(check_connection(engine), timeout=3)
