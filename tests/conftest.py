"""Shared fixtures: a session-wide cache folder for generated media, and no unexpected ERROR logs."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_error_logs: the test provokes ERROR log records on purpose")


@pytest.fixture(scope="session")
def media_cache() -> Path:
    """Generated media lives here for the whole session (outside git)."""
    root = Path(os.environ.get("LESSONQC_TEST_CACHE", Path(__file__).resolve().parent.parent / ".cache" / "test-media"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(autouse=True)
def no_error_logs(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture):
    """Fail a test whose code logged at ERROR or above, unless it is marked allow_error_logs."""
    yield
    if request.node.get_closest_marker("allow_error_logs"):
        return
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, f"unexpected ERROR logs: {errors}"


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this session (skips locally without a server, fails in CI)."""
    from tests.dbkit import fresh_postgres

    yield from fresh_postgres()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated index database of each backend."""
    from tests.dbkit import database_url, truncate

    pg = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    url = database_url(request.param, tmp_path, pg)
    if pg:
        truncate(url)
    return url


@pytest.fixture(scope="session")
def console_lesson(media_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    """(video, report folder, report dict) of a short lesson with an ad slide at 10–15 s, checked for real."""
    from tests.consolekit import make_checked_lesson

    return make_checked_lesson(media_cache, tmp_path_factory.mktemp("console-report"))
