"""projects shared with households

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 00:00:00

A project (a job, a client) is personal or shared with one household, as a list is:
its members see it, and the roles that keep the books see its money (job costing,
billable work, invoices).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("household_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_projects_household_id"), ["household_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_projects_household_id_households"),
            "households",
            ["household_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_projects_household_id_households"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_projects_household_id"))
        batch_op.drop_column("household_id")
