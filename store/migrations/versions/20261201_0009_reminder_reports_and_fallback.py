"""reminder reports and fallback

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 00:00:00

A reminder text or call waits for Twilio's report: the reminder remembers the SID it
waits on, and, when the report says it failed (no-answer, undelivered…), the
channel it failed on, so the next channel in the user's order is tried.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("twilio_sid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("fallback_after", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_reminders_twilio_sid"), ["twilio_sid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminders_twilio_sid"))
        batch_op.drop_column("fallback_after")
        batch_op.drop_column("twilio_sid")
