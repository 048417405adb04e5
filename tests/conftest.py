"""Shared fixtures: a session-wide cache folder for generated media, no unexpected ERROR logs, and
no Whisper model outside tests marked `model`.

The model guard: before any fixture of a test is set up (so module- and session-scoped fixtures
that run a check or start a worker are covered too), `LESSONQC_FORBID_MODEL` is set in
os.environ to the path of this session's refusal log for a test not marked `model`, and removed
for a marked one. `models.loader.load()` then refuses on every call (cached model or not) and
appends the refusal to that log, in this process and in every subprocess started meanwhile
(farm workers inherit the variable; their warm-up skips quietly). A refusal inside the speech
stage only makes the verdict `review`, so the log, not the exception, is what fails the test:
`model_guard` fails a test when the log grew since the previous test's check. A worker started
by a module-scoped fixture keeps the setting of the test that started it.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Callable

import pytest

from models.loader import FORBID_ENV

REFUSALS = pytest.StashKey[Path]()
DIAGNOSE = pytest.StashKey[Callable[[], str]]()  # what a failed test adds to its report (tests/test_hosts.py)
CHECKED = pytest.StashKey[int]()  # bytes of the refusal log already attributed to a test


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_error_logs: the test provokes ERROR log records on purpose")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Forbid the model for this test (before its fixtures run) unless it is marked `model`."""
    if item.get_closest_marker("model"):
        os.environ.pop(FORBID_ENV, None)
    else:
        os.environ[FORBID_ENV] = str(refusal_log(item.config))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failed test that left a DIAGNOSE in its stash gets that text as a section of its report."""
    report = yield
    if report.failed and DIAGNOSE in item.stash:
        try:
            report.sections.append((f"diagnosis ({report.when})", item.stash[DIAGNOSE]()))
        except Exception as exc:  # noqa: BLE001 - the diagnosis must not hide the failure
            report.sections.append((f"diagnosis ({report.when})", f"could not be made: {exc!r}"))
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    os.environ.pop(FORBID_ENV, None)
    if REFUSALS not in session.config.stash:
        return
    late = new_refusals(session.config)  # after the last test's check (a module fixture's teardown)
    session.config.stash[REFUSALS].unlink(missing_ok=True)
    if late:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        (reporter.write_line if reporter else print)(f"Whisper model refused after the last test: {late}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def refusal_log(config: pytest.Config) -> Path:
    """This session's refusal log (an empty temporary file, made on first use)."""
    if REFUSALS not in config.stash:
        fd, path = tempfile.mkstemp(prefix="lessonqc-model-refusals-", suffix=".log")
        os.close(fd)
        config.stash[REFUSALS], config.stash[CHECKED] = Path(path), 0
    return config.stash[REFUSALS]


def new_refusals(config: pytest.Config) -> list[str]:
    """Refusals recorded since the last call."""
    data = refusal_log(config).read_bytes()
    fresh, config.stash[CHECKED] = data[config.stash[CHECKED]:], len(data)
    return fresh.decode("utf-8", "replace").splitlines()


@pytest.fixture(autouse=True)
def model_guard(request: pytest.FixtureRequest):
    """Fail a test during which the Whisper model was refused (see the module docstring)."""
    yield
    refused = new_refusals(request.config)
    assert not refused, (f"Whisper model load refused during this test (or a fixture it set up): mark it "
                         f"@pytest.mark.model, or skip the speech stage; {refused}")


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
    """(video, report folder, report dict) of a short lesson with an ad slide at 10–15 s, checked for real
    without the speech stage (the console's tests are about reviewing; test_console_browser has its own)."""
    from tests.consolekit import make_checked_lesson

    return make_checked_lesson(media_cache, tmp_path_factory.mktemp("console-report"), skip=frozenset({"speech"}))
