"""Databases for the index tests: a SQLite file, or a fresh PostgreSQL database per test session.

PostgreSQL is found at LESSONQC_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/test,
the server .ci/run finds or starts); each session creates its own database there and drops
it at the end. Locally the PostgreSQL tests skip when no server answers; in CI they fail.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest

ADMIN_URL = os.environ.get("LESSONQC_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _admin():
    import psycopg

    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if in_ci():
            pytest.fail(f"CI: PostgreSQL must answer at {ADMIN_URL} ({exc}); .ci/run finds or starts it")
        pytest.skip(f"no PostgreSQL at {ADMIN_URL} ({exc})")


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def fresh_postgres() -> Iterator[str]:
    """Create a new database for this run; yield its URL; drop it afterwards."""
    name = f"lqctest_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(ADMIN_URL, name)
    finally:
        from index import db

        db.close_all()
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(backend: str, folder: Path, pg_url: str | None) -> str:
    """The URL of a test database of `backend` (SQLite: a new file in `folder`)."""
    if backend == "sqlite":
        return f"sqlite:///{folder / f'index-{uuid.uuid4().hex[:8]}.sqlite3'}"
    assert pg_url is not None
    return pg_url


def truncate(url: str) -> None:
    """Empty every index table (between PostgreSQL tests that share one database)."""
    from sqlalchemy import text

    from index import db
    from index.models import Base

    database = db.open_database(url)
    with database.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(text(f'DELETE FROM "{table.name}"'))
