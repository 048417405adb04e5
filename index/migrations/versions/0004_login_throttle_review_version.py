"""login_throttle (failed logins per account and client, login attempts per client); jobs.review_version
(decisions by conditional write); users.failed_logins dropped (counted per client in login_throttle)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("account", sa.String(100), primary_key=True),
        sa.Column("client", sa.String(100), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_login_throttle_window", "login_throttle", ["window_start"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("review_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("users") as batch:
        batch.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("review_version")
    op.drop_index("ix_login_throttle_window", "login_throttle")
    op.drop_table("login_throttle")
