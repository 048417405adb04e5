"""Where the index lives and how to talk to it: URL, engine, session factory, migrations.

`LESSONQC_DATABASE_URL` names the database (`postgresql+psycopg://user@host/db`; a plain
`postgresql://` URL is read as psycopg 3). Without it the index is a SQLite file,
`index.sqlite3` in the folder the caller names (the farm passes its report store).
`open_database` applies the Alembic migrations once per process (`alembic upgrade head`,
serialised between processes by an advisory lock on PostgreSQL and a file lock on SQLite).
"""
from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL_ENV = "LESSONQC_DATABASE_URL"
SQLITE_NAME = "index.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x4C51_4349  # "LQCI": the advisory lock that serialises migrations


def database_url(default_dir: Path | str) -> str:
    """LESSONQC_DATABASE_URL (psycopg 3 for postgresql URLs), else a SQLite file in `default_dir`."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if not url:
        return f"sqlite:///{Path(default_dir).expanduser().resolve() / SQLITE_NAME}"
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


@dataclass
class Database:
    """An engine and its session factory (one per URL per process)."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def make_engine(url: str) -> Engine:
    """An engine tuned per backend: SQLite in WAL mode with a busy timeout and foreign keys."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        owner_only(Path(path))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def owner_only(path: Path) -> None:
    """The index file (password and token hashes) readable by its owner only: created 0600, an older one
    tightened, with its -wal and -shm (SQLite creates those with the database file's mode)."""
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if part.exists() and part.stat().st_mode & 0o077:
                part.chmod(0o600)
        except PermissionError:  # another owner's file: left as it is
            pass


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_open: dict[str, Database] = {}
_lock = threading.Lock()


def open_database(url: str, migrate: bool = True) -> Database:
    """The process's Database for `url`, migrated to head the first time it is opened."""
    with _lock:
        if url not in _open:
            engine = make_engine(url)
            if migrate:
                upgrade(engine)
            _open[url] = Database(url, engine, sessionmaker(engine, expire_on_commit=False))
        return _open[url]


def close_all() -> None:
    """Dispose every engine this process opened (tests, forks)."""
    with _lock:
        for database in _open.values():
            database.engine.dispose()
        _open.clear()


def alembic_config(engine: Engine) -> Any:
    """An Alembic Config pointing at index/migrations and at `engine` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """`alembic upgrade head`, one process at a time."""
    from alembic import command

    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
        return
    path = engine.url.database
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
