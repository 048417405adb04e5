"""selection: the catalogue node of a lesson (学段, 学科, 教材版本, 册次, 单元, 课) and its compared key

Revision ID: 0009_catalogue_nodes
Revises: 0008_print_offsets
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_catalogue_nodes"
down_revision = "0008_print_offsets"
branch_labels = None
depends_on = None

PARTS = ("stage", "subject", "edition", "volume", "unit", "lesson")


def upgrade() -> None:
    with op.batch_alter_table("lessons") as batch:
        for part in PARTS:
            batch.add_column(sa.Column(f"node_{part}", sa.String(100), nullable=True))
        batch.add_column(sa.Column("node_key", sa.String(700), nullable=True))
    op.create_index("ix_lessons_node_key", "lessons", ["node_key"])


def downgrade() -> None:
    op.drop_index("ix_lessons_node_key", table_name="lessons")
    with op.batch_alter_table("lessons") as batch:
        batch.drop_column("node_key")
        for part in reversed(PARTS):
            batch.drop_column(f"node_{part}")
