"""finance: rules, billables, sequences, bank links, import keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 21:08:25.484630
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "bank_links",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("institution", sa.String(length=200), nullable=True),
        sa.Column("access_token_sealed", sa.String(length=2000), nullable=False),
        sa.Column("cursor", sa.String(length=2000), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bank_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_links")),
        sa.UniqueConstraint("user_id", "item_id", name=op.f("uq_bank_links_user_id_item_id")),
    )
    with op.batch_alter_table("bank_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_links_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sequences",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sequences_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sequences")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_sequences_user_id_name")),
    )
    with op.batch_alter_table("sequences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sequences_user_id"), ["user_id"], unique=False)

    op.create_table(
        "category_rules",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_key", sa.String(length=200), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_category_rules_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_category_rules_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_rules")),
        sa.UniqueConstraint(
            "user_id", "merchant_key", name=op.f("uq_category_rules_user_id_merchant_key")
        ),
    )
    with op.batch_alter_table("category_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_category_rules_user_id"), ["user_id"], unique=False)

    op.create_table(
        "billable_items",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_billable_items_invoice_id_invoices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_billable_items_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_billable_items_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billable_items")),
    )
    with op.batch_alter_table("billable_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billable_items_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_billable_items_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_billable_items_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_transactions_user_id_dedupe_key"), ["user_id", "dedupe_key"]
        )


def downgrade() -> None:

    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_transactions_user_id_dedupe_key"), type_="unique")
        batch_op.drop_column("dedupe_key")

    with op.batch_alter_table("billable_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billable_items_user_id"))
        batch_op.drop_index(batch_op.f("ix_billable_items_project_id"))
        batch_op.drop_index(batch_op.f("ix_billable_items_invoice_id"))

    op.drop_table("billable_items")
    with op.batch_alter_table("category_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_category_rules_user_id"))

    op.drop_table("category_rules")
    with op.batch_alter_table("sequences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sequences_user_id"))

    op.drop_table("sequences")
    with op.batch_alter_table("bank_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_links_user_id"))

    op.drop_table("bank_links")
