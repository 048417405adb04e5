"""originality: print_keys keep each key's time (key, lesson_no, at) for offset voting; fingerprints get lesson_no

Existing fingerprints are numbered in the order they were made and left without keys (`version`
1): the keys' form changed (21-bit picture bands and whole Chromaprint values, with times) and
only the workers may derive keys (the index never imports the analysis). The sweeper indexes
them anew (`workers.originality.rekey`), and so do `lessonqc check --index` and
`lessonqc fingerprints rekey` before they use the index.

Revision ID: 0008_print_offsets
Revises: 0007
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_print_offsets"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_print_keys_job", table_name="print_keys")
    op.drop_table("print_keys")
    with op.batch_alter_table("fingerprints") as batch:
        batch.add_column(sa.Column("lesson_no", sa.Integer(), nullable=True))
    jobs = [r[0] for r in bind.execute(sa.text("SELECT job_id FROM fingerprints ORDER BY created_at, job_id"))]
    for number, job_id in enumerate(jobs, start=1):
        bind.execute(sa.text("UPDATE fingerprints SET lesson_no = :n WHERE job_id = :j"), {"n": number, "j": job_id})
    with op.batch_alter_table("fingerprints") as batch:
        batch.alter_column("lesson_no", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_fingerprints_lesson_no", ["lesson_no"])
    numbers = op.create_table("print_numbers", sa.Column("last", sa.Integer(), primary_key=True, autoincrement=False))
    op.bulk_insert(numbers, [{"last": len(jobs)}])
    op.create_table(
        "print_keys",
        sa.Column("key", sa.BigInteger(), primary_key=True),
        sa.Column("lesson_no", sa.Integer(), primary_key=True),
        sa.Column("at", sa.Integer(), primary_key=True),
        sqlite_with_rowid=False,
    )
    bind.execute(sa.text("UPDATE fingerprints SET version = 1"))
    op.create_index("ix_fingerprints_unkeyed", "fingerprints", ["lesson_no"],
                    postgresql_where=sa.text("version < 2"), sqlite_where=sa.text("version < 2"))


def downgrade() -> None:
    op.drop_index("ix_fingerprints_unkeyed", table_name="fingerprints")
    op.drop_table("print_keys")
    op.drop_table("print_numbers")
    with op.batch_alter_table("fingerprints") as batch:
        batch.drop_constraint("uq_fingerprints_lesson_no", type_="unique")
        batch.drop_column("lesson_no")
    op.create_table(
        "print_keys",
        sa.Column("key", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_print_keys_job", "print_keys", ["job_id"])
