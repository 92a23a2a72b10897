"""bank links, categories, rules and invoices shared with households

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 00:00:00

A bank connection, a category set with its learned rules, and an invoice may belong to
a household's books. Names (a category's, a rule's merchant, an invoice's number, a
counter's name) are unique within one set of books: a user's own, where the old
per-user uniqueness now holds only for rows of no household, or a household's. A
statement line is imported once into a household's books, whoever imports it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table → the columns unique within one set of books (after user_id or household_id)
_UNIQUE_IN_BOOKS = {
    "categories": ["name"],
    "category_rules": ["merchant_key"],
    "invoices": ["number"],
    "sequences": ["name"],
}
_OWN_ONLY = sa.text("household_id IS NULL")


def _add_household(batch_op, table: str) -> None:  # type: ignore[no-untyped-def]
    batch_op.add_column(sa.Column("household_id", sa.Uuid(), nullable=True))
    batch_op.create_index(batch_op.f(f"ix_{table}_household_id"), ["household_id"], unique=False)
    batch_op.create_foreign_key(
        batch_op.f(f"fk_{table}_household_id_households"),
        "households",
        ["household_id"],
        ["id"],
        ondelete="SET NULL",
    )


def _drop_household(batch_op, table: str) -> None:  # type: ignore[no-untyped-def]
    batch_op.drop_constraint(batch_op.f(f"fk_{table}_household_id_households"), type_="foreignkey")
    batch_op.drop_index(batch_op.f(f"ix_{table}_household_id"))
    batch_op.drop_column("household_id")


def upgrade() -> None:
    with op.batch_alter_table("bank_links", schema=None) as batch_op:
        _add_household(batch_op, "bank_links")
    for table, columns in _UNIQUE_IN_BOOKS.items():
        named = "_".join(columns)
        with op.batch_alter_table(table, schema=None) as batch_op:
            _add_household(batch_op, table)
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_user_id_{named}"), type_="unique")
            batch_op.create_unique_constraint(
                batch_op.f(f"uq_{table}_household_id_{named}"), ["household_id", *columns]
            )
        op.create_index(
            op.f(f"uq_{table}_user_id_{named}"),
            table,
            ["user_id", *columns],
            unique=True,
            sqlite_where=_OWN_ONLY,
            postgresql_where=_OWN_ONLY,
        )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_transactions_household_id_dedupe_key"), ["household_id", "dedupe_key"]
        )


def downgrade() -> None:
    # Household rows go back to their makers' own books: numbers and names that
    # would clash there are not guarded against (a downgrade is for an empty store).
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_transactions_household_id_dedupe_key"), type_="unique"
        )
    for table, columns in _UNIQUE_IN_BOOKS.items():
        named = "_".join(columns)
        op.drop_index(op.f(f"uq_{table}_user_id_{named}"), table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_household_id_{named}"), type_="unique")
            batch_op.create_unique_constraint(
                batch_op.f(f"uq_{table}_user_id_{named}"), ["user_id", *columns]
            )
            _drop_household(batch_op, table)
    with op.batch_alter_table("bank_links", schema=None) as batch_op:
        _drop_household(batch_op, "bank_links")
