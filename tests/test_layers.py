"""The floors of the house, read from the source: which package may import which, and no import cycles.

Floors, lowest first: ``core`` (venue-neutral types and state), ``venues`` (pure protocols) beside
``alerts`` (rules fed by the store's events, which import nothing but the core), ``stream`` (the engine), then
the rest (``user``, ``launch``, ``sim``, ``ui``, ``cli`` and the top-level modules). A lower
floor never imports a higher one. Only the window and the commands import the window; only the launcher
and the commands import the simulator, which imports nothing of the app but itself (it is written from
the protocol documents, so it can catch a codec's mistake). Every import counts: at module level, inside
functions (lazy) and under ``TYPE_CHECKING``, because each is a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"
FLOORS = {"core": 0, "venues": 1, "alerts": 1, "stream": 2}  # every other package is above these
TOP = 3
IMPORTS_WINDOW = {"ui", "cli"}
IMPORTS_SIMULATOR = {"launch", "cli", "sim"}
MAX_TOP_LEVEL_MODULES = 3


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every ``app`` import in a file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "app" or alias.name.startswith("app."):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "app" or target.startswith("app."):
                # ``from app.ui import theme`` imports the module app.ui.theme when it exists.
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    yield node.lineno, sub if _exists(sub) else target


def _exists(module: str) -> bool:
    path = APP.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def package_of(module: str) -> str:
    """``app.venues.kalshi.decode`` -> ``venues``; ``app.about`` -> ``about``; ``app`` -> ``app``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "app"


def floor(package: str) -> int:
    return -1 if package == "app" else FLOORS.get(package, TOP)  # the root only holds __version__


def edges() -> list[tuple[str, int, str]]:
    out = []
    for path in sorted(APP.rglob("*.py")):
        source = module_name(path)
        for line, target in imported_modules(path):
            if target != source:
                out.append((source, line, target))
    return out


EDGES = edges()


def test_the_reader_sees_every_import() -> None:
    # The walk must see lazy and TYPE_CHECKING imports, or the rules below would pass vacuously.
    targets = {(s, t) for s, _, t in EDGES}
    assert ("app.cli.main", "app.cli.replay") in targets  # lazy, inside main()
    assert ("app.launch.launcher", "app.sim.server") in targets  # TYPE_CHECKING and lazy
    assert len(EDGES) > 300


def test_no_lower_floor_imports_a_higher_one() -> None:
    wrong = [
        f"{source}:{line} imports {target}"
        for source, line, target in EDGES
        if floor(package_of(target)) > floor(package_of(source))
        and package_of(target) != package_of(source)
        and floor(package_of(source)) < TOP
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_window_and_the_commands_import_the_window() -> None:
    wrong = [
        f"{source}:{line} imports {target}"
        for source, line, target in EDGES
        if package_of(target) == "ui" and package_of(source) not in IMPORTS_WINDOW
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_launcher_and_the_commands_import_the_simulator() -> None:
    wrong = [
        f"{source}:{line} imports {target}"
        for source, line, target in EDGES
        if package_of(target) == "sim" and package_of(source) not in IMPORTS_SIMULATOR
    ]
    assert not wrong, "\n".join(wrong)


def test_the_simulator_imports_nothing_of_the_app_but_itself() -> None:
    wrong = [
        f"{source}:{line} imports {target}"
        for source, line, target in EDGES
        if package_of(source) == "sim" and package_of(target) != "sim"
    ]
    assert not wrong, "\n".join(wrong)


def test_alerts_import_only_the_core() -> None:
    wrong = [
        f"{source}:{line} imports {target}"
        for source, line, target in EDGES
        if package_of(source) == "alerts" and package_of(target) not in ("alerts", "core")
    ]
    assert not wrong, "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


@pytest.mark.parametrize("level", ["package", "module"])
def test_no_import_cycles(level: str) -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, _, target in EDGES:
        if level == "package":
            a, b = package_of(source), package_of(target)
        else:
            a, b = source, target
        if a != b:
            graph[a].add(b)
    assert not _cycles(graph)


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_top_level_keeps_few_modules() -> None:
    loose = sorted(p.name for p in APP.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= MAX_TOP_LEVEL_MODULES, loose
