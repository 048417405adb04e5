"""jobs.spec, jobs.profile_snapshot, jobs.recoveries (re-create a job the queue lost)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("spec", sa.JSON()))
        batch.add_column(sa.Column("profile_snapshot", sa.JSON()))
        batch.add_column(sa.Column("recoveries", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("recoveries")
        batch.drop_column("profile_snapshot")
        batch.drop_column("spec")
