"""Shared column helpers for the tables.

Every user-owned row carries an indexed ``user_id`` that cascades with its user,
and every time column is an aware UTC datetime.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, MetaData, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from store.types import ExactDecimal, UTCDateTime, utcnow

# Named constraints let Alembic alter them later, which SQLite's batch mode needs.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata: MetaData = SQLModel.metadata

JSONType = JSON().with_variant(JSONB(), "postgresql")


def id_field() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def owner_field() -> Any:
    return Field(foreign_key="users.id", index=True, ondelete="CASCADE")


def ref_field(table: str) -> Any:
    """An optional reference to another row; the reference clears if that row goes."""
    return Field(default=None, foreign_key=f"{table}.id", index=True, ondelete="SET NULL")


def time_field(*, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, index=index)


def created_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def decimal_field(*, nullable: bool = False, default: Any = None) -> Any:
    return Field(default=default, sa_type=ExactDecimal, nullable=nullable)


def json_field(*, column: str | None = None, factory: Any = dict) -> Any:
    kwargs = {"name": column} if column else {}
    return Field(
        default_factory=factory,
        sa_type=JSONType,
        nullable=False,
        sa_column_kwargs=kwargs,
    )


def unique_in_books(table: str, *columns: str) -> tuple[Index, UniqueConstraint]:
    """``columns`` unique within one set of books: a user's own (no household) and a
    household's, whoever in it made the row. NULLs are distinct in a unique
    constraint, so the household's needs no condition; the user's own does."""
    own_only = text("household_id IS NULL")
    return (
        Index(
            f"uq_{table}_user_id_{'_'.join(columns)}",
            "user_id",
            *columns,
            unique=True,
            sqlite_where=own_only,
            postgresql_where=own_only,
        ),
        UniqueConstraint("household_id", *columns),
    )


class Timestamped(SQLModel):
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
