"""jobs, lessons, findings, api_tokens

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("media_path", sa.Text()),
        sa.Column("media_sha256", sa.String(64)),
        sa.Column("media_size", sa.Integer()),
        sa.Column("profile", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(16)),
        sa.Column("region", sa.String(200)),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("report_dir", sa.Text()),
        sa.Column("stages", sa.JSON()),
        sa.Column("submitted_by", sa.String(100)),
        sa.Column("callback_url", sa.Text()),
        sa.Column("callback_state", sa.String(16)),
        sa.Column("callback_attempts", sa.Integer(), nullable=False),
        sa.Column("callback_error", sa.Text()),
    )
    op.create_index("ix_jobs_submitted", "jobs", ["submitted_at", "id"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_verdict", "jobs", ["verdict"])
    op.create_index("ix_jobs_profile", "jobs", ["profile"])
    op.create_index("ix_jobs_region", "jobs", ["region"])
    op.create_index("ix_jobs_level_region", "jobs", ["level", "region"])
    op.create_table(
        "lessons",
        sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("teacher", sa.String(200)),
        sa.Column("school", sa.String(200)),
        sa.Column("subject", sa.String(100)),
        sa.Column("grade", sa.String(100)),
        sa.Column("title", sa.String(500)),
        sa.Column("category", sa.String(100)),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("start_s", sa.Float()),
        sa.Column("end_s", sa.Float()),
        sa.Column("evidence", sa.JSON()),
    )
    op.create_index("ux_findings_job_seq", "findings", ["job_id", "seq"], unique=True)
    op.create_index("ix_findings_code_job", "findings", ["code", "job_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_api_tokens_name", "api_tokens", ["name"])


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("findings")
    op.drop_table("lessons")
    op.drop_table("jobs")
