"""The package structure: no import cycles, arrows point one way, a small top level."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "pipelines", "workers", "models", "config", "index", "service", "console")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """Project modules imported by one module (any depth: lazy imports count too)."""
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] in PACKAGES}


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        graph[name] = {m for m in _imports(path, name) if m in files and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules on it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _package_of(module: str) -> str:
    """A module's package, not counting `pkg/__init__` imports of its own children."""
    return module.split(".")[0]


def test_no_import_cycle_between_modules():
    graph = import_graph()
    # a package __init__ that re-exports its children is not an edge back into the package
    graph = {m: {d for d in deps if not (m.count(".") < d.count(".") and d.startswith(m + "."))} for m, deps in graph.items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_arrows_point_one_way():
    allowed = {"cli": set(PACKAGES),
               "service": {"service", "console", "workers", "index", "pipelines", "models", "config"},
               "console": {"console", "index", "pipelines", "config"},
               "workers": {"workers", "index", "pipelines", "models", "config"},
               "pipelines": {"pipelines", "models", "config"}, "index": {"index"},
               "models": {"models"}, "config": {"config"}}
    wrong = [(m, d) for m, deps in import_graph().items() for d in deps if _package_of(d) not in allowed[_package_of(m)]]
    assert not wrong


def test_cli_is_on_top_and_nothing_imports_it():
    graph = import_graph()
    assert {_package_of(d) for m, deps in graph.items() if m.startswith("cli") for d in deps} >= \
        {"workers", "console", "index", "pipelines", "models"}, "the commands of every package are in cli/"
    assert not [(m, d) for m, deps in graph.items() for d in deps if _package_of(d) == "cli" != _package_of(m)]
    assert not [p for pkg in PACKAGES if pkg != "cli" for p in (ROOT / pkg).rglob("cmd_*.py")]


def test_pipelines_never_import_queue_web_or_database_code():
    banned = ("dramatiq", "redis", "sqlalchemy", "fastapi", "starlette")
    for path in (ROOT / "pipelines").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in banned for n in names), f"{path}: imports {names}"


def test_pipelines_top_level_is_small_and_families_are_subpackages():
    top = sorted(p.stem for p in (ROOT / "pipelines").glob("*.py") if p.stem != "__init__")
    assert len(top) <= 11, top
    for family in ("media", "speech", "onscreen", "ocr", "lab", "report"):
        assert (ROOT / "pipelines" / family / "__init__.py").exists()
    assert not [t for t in top if "_" in t and t.split("_")[0] in ("speech", "onscreen", "lab")]
