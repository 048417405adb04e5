"""The model guard: only tests marked `model` may load Whisper (tests/conftest.py, models/loader.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from models import loader
from models.errors import ModelForbidden
from workers import warmup

REPO = Path(__file__).resolve().parent.parent
CONFIG = {"device": "cpu"}  # never read: the refusal comes first


@pytest.fixture
def cached_model(monkeypatch: pytest.MonkeyPatch) -> loader.LoadedModel:
    """A model already in the per-process cache (as after an earlier `model` test)."""
    choice = loader.ModelChoice("fake", "/nowhere", "cpu", "int8", 1, 0)
    loaded = loader.LoadedModel(choice, object())
    monkeypatch.setattr(loader, "choose", lambda config: choice)
    monkeypatch.setitem(loader._LOADED, choice, loaded)
    return loaded


def test_an_unmarked_test_runs_with_loading_forbidden() -> None:
    assert loader.forbidden() and os.path.isabs(os.environ[loader.FORBID_ENV])


@pytest.mark.model
def test_a_marked_test_may_load() -> None:
    assert not loader.forbidden()  # test_models.py's model tests load it for real


def test_a_cached_model_is_refused_too_and_the_refusal_recorded(cached_model: loader.LoadedModel, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(loader.FORBID_ENV)
    assert loader.load(CONFIG) is cached_model
    record = tmp_path / "refusals.log"
    monkeypatch.setenv(loader.FORBID_ENV, str(record))
    with pytest.raises(ModelForbidden, match=loader.FORBID_ENV):
        loader.load(CONFIG)
    with pytest.raises(ModelForbidden):
        loader._create(cached_model.choice)
    assert record.read_text().count(f"pid {os.getpid()}: loading ") == 2


def test_a_non_path_value_refuses_without_a_record(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(loader.FORBID_ENV, "1")
    with pytest.raises(ModelForbidden):
        loader.load(CONFIG)
    assert list(tmp_path.iterdir()) == []


def test_worker_warmup_skips_quietly_when_forbidden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "refusals.log"
    monkeypatch.setenv(loader.FORBID_ENV, str(record))
    assert warmup.warm_speech_model() is False
    assert not record.exists()


INNER = '''
import os
import pytest
from models import loader

def test_swallows_the_refusal():
    with pytest.raises(loader.ModelForbidden):  # as the speech stage does: the verdict becomes review
        loader.load({})

def test_starts_a_process_that_is_refused():
    code = "from models import loader\\ntry: loader.load({})\\nexcept loader.ModelForbidden: pass"
    import subprocess, sys
    subprocess.run([sys.executable, "-c", code], check=True)

@pytest.mark.model
def test_marked():
    assert loader.FORBID_ENV not in os.environ

@pytest.fixture(scope="module")
def forbidden_in_module_setup():
    return loader.forbidden()

@pytest.mark.model
def test_marked_sets_up_a_module_fixture(forbidden_in_module_setup):
    assert forbidden_in_module_setup is False  # the guard is settled before any fixture runs
'''


def test_a_swallowed_or_subprocess_refusal_still_fails_the_test(tmp_path: Path) -> None:
    """A pytest run of INNER with this conftest: the two refusals fail their tests at teardown."""
    (tmp_path / "conftest.py").write_text((REPO / "tests" / "conftest.py").read_text())
    (tmp_path / "test_inner.py").write_text(INNER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(loader.FORBID_ENV)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore", str(tmp_path)]
    run = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "4 passed, 2 errors" in run.stdout, run.stdout
    errors = [line.split(" - ")[0] for line in run.stdout.splitlines() if line.startswith("ERROR ")]
    assert errors == ["ERROR test_inner.py::test_swallows_the_refusal",
                      "ERROR test_inner.py::test_starts_a_process_that_is_refused"], run.stdout
    assert "Whisper model load refused during this test" in run.stdout
