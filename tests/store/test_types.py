"""Money stays exact and times stay in UTC on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import Event, Task, Transaction, User


async def owner(session: AsyncSession) -> User:
    user = User(email="owner@example.com")
    session.add(user)
    await session.flush()
    return user


async def test_money_is_exact_in_storage_and_in_sums(session: AsyncSession) -> None:
    user = await owner(session)
    for amount in ("0.10", "0.20", "1234567890.1234"):
        session.add(
            Transaction(
                user_id=user.id,
                amount=Decimal(amount),
                currency="USD",
                occurred_on=date(2026, 1, 2),
            )
        )
    await session.commit()

    amounts = (await session.exec(select(Transaction.amount))).all()
    assert sorted(amounts) == [Decimal("0.1"), Decimal("0.2"), Decimal("1234567890.1234")]
    total = (await session.exec(select(func.sum(Transaction.amount)))).one()
    assert total == Decimal("1234567890.4234")  # summed as exact integers in SQL


async def test_float_money_is_refused(session: AsyncSession) -> None:
    user = await owner(session)
    session.add(Transaction(user_id=user.id, amount=0.1, currency="USD", occurred_on=date.today()))
    with pytest.raises(StatementError, match="never float"):
        await session.flush()
    await session.rollback()


async def test_more_than_four_places_is_refused(session: AsyncSession) -> None:
    user = await owner(session)
    session.add(
        Transaction(
            user_id=user.id, amount=Decimal("1.00001"), currency="USD", occurred_on=date.today()
        )
    )
    with pytest.raises(StatementError, match="more than 4 decimal places"):
        await session.flush()
    await session.rollback()


async def test_times_come_back_as_the_same_instant_in_utc(session: AsyncSession) -> None:
    user = await owner(session)
    paris_summer = timezone(timedelta(hours=2))
    due = datetime(2026, 7, 1, 18, 30, tzinfo=paris_summer)
    session.add(Task(user_id=user.id, title="call mom", due_at=due))
    await session.commit()
    session.expunge_all()

    task = (await session.exec(select(Task))).one()
    assert task.due_at == due
    assert task.due_at.tzinfo == UTC
    assert task.due_at.hour == 16


async def test_naive_times_are_refused(session: AsyncSession) -> None:
    user = await owner(session)
    session.add(Task(user_id=user.id, title="x", due_at=datetime(2026, 1, 1, 9, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        await session.flush()
    await session.rollback()


async def test_event_cannot_end_before_it_starts(session: AsyncSession) -> None:
    user = await owner(session)
    start = datetime(2026, 3, 1, 10, tzinfo=UTC)
    session.add(
        Event(user_id=user.id, title="standup", start_at=start, end_at=start - timedelta(hours=1))
    )
    with pytest.raises(IntegrityError, match=r"(?i)check constraint|ends_after_start"):
        await session.flush()
    await session.rollback()
    assert (await session.exec(select(func.count()).select_from(Event))).one() == 0


async def test_deleting_a_user_removes_their_rows(session: AsyncSession) -> None:
    user = await owner(session)
    other = User(email="other@example.com")
    session.add(other)
    await session.flush()
    session.add(Task(user_id=user.id, title="mine"))
    session.add(Task(user_id=other.id, title="theirs"))
    await session.commit()

    await session.delete(user)
    await session.commit()
    titles = (await session.exec(select(Task.title))).all()
    assert titles == ["theirs"]
