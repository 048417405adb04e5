"""originality: fingerprints (each job's picture and sound prints) and print_keys (the candidate index)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fingerprints",
        sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("picture", sa.LargeBinary(), nullable=False),
        sa.Column("picture_step_s", sa.Float(), nullable=False),
        sa.Column("sound", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "print_keys",
        sa.Column("key", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_print_keys_job", "print_keys", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_print_keys_job", table_name="print_keys")
    op.drop_table("print_keys")
    op.drop_table("fingerprints")
