"""jobs.duration_s (the queue's duration column), lesson_opens (a decision may be withdrawn until the
next level opens the lesson)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("duration_s", sa.Float()))
    op.create_table(
        "lesson_opens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_lesson_opens_job_level", "lesson_opens", ["job_id", "level", "opened_at"])


def downgrade() -> None:
    op.drop_table("lesson_opens")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("duration_s")
