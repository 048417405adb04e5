"""The documentation stays true: the MkDocs site builds strictly (links, anchors, nav), loads nothing from
another origin, and every `lessonqc` command, `python -m` module and repository path it names exists."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import commands

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "docker" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = ("cli", "pipelines", "workers", "models", "config", "index", "service", "console", "testmedia", "tests",
       "bench", "docker", "docs")
GENERATED = ("models/store",)  # made by `make model`, git-ignored
COMMAND = re.compile(r"\blessonqc\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?")
MODULE = re.compile(r"\bpython3?\s+-m\s+([A-Za-z_][\w.]*)")
PATH = re.compile(r"(?<![\w./-])((?:%s)/[\w.*/-]*[\w*/])" % "|".join(TOP))


def _text() -> dict[Path, str]:
    return {page: page.read_text(encoding="utf-8") for page in PAGES}


def test_site_builds_strictly_and_loads_nothing_from_elsewhere(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    built = sorted((tmp_path / "site").rglob("*.html"))
    assert {"cli", "operations", "api", "console", "profiles", "benchmarks"} <= {p.parent.name for p in built}
    remote = re.compile(r"""<(?:script|link|img)\b[^>]*(?:src|href)=["'](?:https?:)?//""")
    assert not [p for p in built if remote.search(p.read_text(encoding="utf-8"))]


def test_every_lessonqc_command_named_exists():
    parsers = commands()
    named = {(m.group(1), m.group(2)) for text in _text().values() for m in COMMAND.finditer(text)}
    assert {"check", "submit", "worker", "serve", "users"} <= {cmd for cmd, _ in named}, "the parser sees the docs"
    unknown = sorted(cmd for cmd, _ in named if cmd not in parsers)
    assert not unknown, f"lessonqc commands the CLI does not have: {unknown}"
    bad_actions = sorted(f"{cmd} {act}" for cmd, act in named if act and _actions(parsers[cmd])
                         and act not in _actions(parsers[cmd]))
    assert not bad_actions, f"sub-commands the CLI does not have: {bad_actions}"


def _actions(parser) -> set[str]:
    """The sub-command names of a command (models install, users add ...); empty when it has none."""
    return {name for action in parser._actions if hasattr(action, "choices") and isinstance(action.choices, dict)
            for name in action.choices}


def test_every_python_module_named_exists():
    named = {m.group(1).rstrip(".") for text in _text().values() for m in MODULE.finditer(text)}
    assert "bench.bench_memory" in named
    missing = sorted(name for name in named if not _runnable(name))
    assert not missing, f"`python -m` modules that do not exist: {missing}"


def _runnable(module: str) -> bool:
    parts = module.split(".")
    if (ROOT / parts[0]).is_dir():
        base = ROOT.joinpath(*parts)
        return base.with_suffix(".py").is_file() or (base / "__main__.py").is_file()
    return importlib.util.find_spec(parts[0]) is not None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_path_named_exists(page):
    named = {m.group(1).rstrip(".") for m in PATH.finditer(page.read_text(encoding="utf-8"))}
    missing = sorted(p for p in named if not p.startswith(GENERATED) and not _exists(p))
    assert not missing, f"{page.name} names paths that do not exist: {missing}"


def _exists(path: str) -> bool:
    return any(ROOT.glob(path.rstrip("/"))) if "*" in path else (ROOT / path).exists()
