"""twilio delivery statuses

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 21:48:21.981143

Reminder texts and calls remember Twilio's id, and the statuses Twilio reports for
them (delivered, failed, no-answer…) are kept to show beside the delivery log.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "twilio_statuses",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.String(length=10), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_twilio_statuses")),
    )
    with op.batch_alter_table("reminder_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("twilio_sid", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_reminder_deliveries_twilio_sid"), ["twilio_sid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reminder_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_deliveries_twilio_sid"))
        batch_op.drop_column("twilio_sid")

    op.drop_table("twilio_statuses")
