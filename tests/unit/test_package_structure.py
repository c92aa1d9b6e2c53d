"""The package's shape: no import cycle (imports inside functions included), the automation
and the worker never import the CLI, the domain core imports no Dagster, and every module imports in a
fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pipelines"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str) -> set[str]:
    """Every pipelines module `name` imports, at any depth of its code (function bodies too)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from package import module` imports the module; `from module import name`, the module.
            candidates = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names
            ]
        else:
            continue
        found |= {candidate for candidate in candidates if candidate in MODULES and candidate != name}
    return found


GRAPH = {name: imported_modules(name) for name in MODULES}


def test_the_module_list_is_the_package():
    assert "pipelines.definitions" in MODULES and "pipelines.core.months" in MODULES
    assert GRAPH["pipelines.definitions"], "the import scan found no imports at all"


def test_no_import_cycle_anywhere():
    """Depth-first search for a back edge; a package's __init__ importing its own
    submodules is not a cycle unless a submodule imports the __init__ back."""
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for imported in sorted(GRAPH[name]):
            if state.get(imported) == 1:
                cycles.append([*trail[trail.index(imported):], imported] if imported in trail else [name, imported])
            elif imported not in state:
                visit(imported, [*trail, imported])
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for imported in GRAPH[todo.pop()]:
            if imported not in seen:
                seen.add(imported)
                todo.append(imported)
    return seen


def test_the_code_location_the_automation_and_the_worker_never_import_the_cli():
    """The worker included: its run launcher is loaded by every Dagster process that opens
    the instance (the daemon, the UI), and the worker gets its commands from the CLI."""
    starts = [name for name in MODULES if name.startswith(("pipelines.automation", "pipelines.worker"))]
    assert "pipelines.worker.run_launcher" in starts
    for start in ("pipelines.definitions", *starts):
        assert not {name for name in reachable(start) if name.startswith("pipelines.cli")}, start


def test_the_domain_core_imports_no_dagster_and_no_stage():
    for name, path in MODULES.items():
        if not name.startswith("pipelines.core"):
            continue
        source = path.read_text(encoding="utf-8")
        assert "import dagster" not in source and "from dagster" not in source, name
        stages = {imported for imported in GRAPH[name] if not imported.startswith("pipelines.core")}
        assert stages <= {"pipelines", "pipelines.package_files"}, f"{name} imports {stages}"


def test_every_module_imports_in_a_fresh_interpreter():
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\nprint('ok', len(sys.argv) - 1)\n"
    result = subprocess.run(
        [sys.executable, "-c", script, *MODULES], capture_output=True, text=True, timeout=300, cwd=PACKAGE.parent
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["ok", str(len(MODULES))]


@pytest.mark.parametrize("cycle", [("a", "b", "a")])
def test_the_cycle_search_finds_a_planted_cycle(cycle, monkeypatch):
    """The search above can fail: a planted two-module cycle is reported."""
    planted = {"pipelines.x": {"pipelines.y"}, "pipelines.y": {"pipelines.x"}}
    monkeypatch.setattr(sys.modules[__name__], "GRAPH", planted)
    with pytest.raises(AssertionError, match="import cycles"):
        test_no_import_cycle_anywhere()
