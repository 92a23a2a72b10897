"""Alembic environment: always handed a live connection by store.migrate."""

from __future__ import annotations

from alembic import context

from store.migrate import render_item
from store.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through 'lifeos db upgrade', not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
