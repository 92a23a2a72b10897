"""calendar sync accounts and tombstones

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 20:58:08.536502
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_accounts",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("password_sealed", sa.String(length=2000), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_accounts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_accounts")),
        sa.UniqueConstraint("user_id", name=op.f("uq_calendar_accounts_user_id")),
    )
    op.create_table(
        "calendar_tombstones",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("external_uid", sa.String(length=500), nullable=False),
        sa.Column("href", sa.String(length=2000), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_tombstones_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_tombstones")),
        sa.UniqueConstraint(
            "user_id", "external_uid", name=op.f("uq_calendar_tombstones_user_id_external_uid")
        ),
    )
    with op.batch_alter_table("calendar_tombstones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_tombstones_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("calendar_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_tombstones_user_id"))

    op.drop_table("calendar_tombstones")
    op.drop_table("calendar_accounts")
