"""The house rules of DESIGN.md §6, checked on the source: imports point down, command bodies stay thin.

The import graph is read with :mod:`ast` from every file of ``contagion/``,
at module and function level (imports under ``if TYPE_CHECKING:`` excluded).
``from package import name`` counts as an import of ``package.name`` when
that is a module, else of ``package``. ``.ci/run`` also checks the layers
contract of ``pyproject.toml`` with import-linter.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1] / "contagion"


def _module_name(path: Path) -> tuple[str, bool]:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    is_pkg = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_pkg else parts), is_pkg


def _exists(module: str) -> bool:
    rel = Path(*module.split("."))
    return (ROOT.parent / rel).with_suffix(".py").is_file() or (ROOT.parent / rel / "__init__.py").is_file()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def import_graph() -> nx.DiGraph:
    """Module -> modules it imports (internal ones only)."""
    g = nx.DiGraph()
    for path in ROOT.rglob("*.py"):
        mod, is_pkg = _module_name(path)
        package = mod if is_pkg else mod.rpartition(".")[0]
        g.add_node(mod)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    src = ".".join(base + ([node.module] if node.module else []))
                else:
                    src = node.module or ""
                for alias in node.names:
                    sub = f"{src}.{alias.name}"
                    targets.append(sub if _exists(sub) else src)
            for t in targets:
                if t.split(".")[0] == "contagion" and t != mod:
                    g.add_edge(mod, t)
    return g


GRAPH = import_graph()


def _reaches(src: str, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(t for t in GRAPH.successors(src) if any(t == p or t.startswith(p + ".") for p in prefixes))


def test_no_import_circle():
    cycles = list(nx.simple_cycles(GRAPH))
    assert cycles == []


def test_the_graph_sees_function_level_imports():
    # the check above is only meaningful if the reader finds imports inside functions
    assert "contagion.pipeline" in set(GRAPH.successors("contagion.report.build"))
    assert "contagion.shocks" in set(GRAPH.successors("contagion.pipeline"))


def test_network_knows_nothing_of_clearing_or_io():
    assert _reaches("contagion.network", ("contagion.clearing", "contagion.io")) == []


@pytest.mark.parametrize("mod", sorted(m for m in GRAPH if m == "contagion.clearing"
                                       or m.startswith("contagion.clearing.")))
def test_clearing_knows_nothing_above_it(mod):
    above = ("contagion.report", "contagion.measures", "contagion.channels", "contagion.viz", "contagion.sweep",
             "contagion.pipeline", "contagion.cli", "contagion.shocks")
    assert _reaches(mod, above) == []


def test_only_the_pipeline_resolves_and_applies_scenarios():
    # apply / find_scenario / default_scenario_of are imported by the pipeline (and inside shocks) only;
    # `contagion validate` (cli.data) checks that a scenario file applies, without clearing
    users = set()
    for path in ROOT.rglob("*.py"):
        mod, _ = _module_name(path)
        if mod.startswith("contagion.shocks") or mod == "contagion.pipeline":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) not in skip and isinstance(node, ast.ImportFrom) and (node.module or "").endswith("shocks"):
                names = {a.name for a in node.names}
                if names & {"apply", "find_scenario", "default_scenario_of"}:
                    users.add(mod)
    assert users <= {"contagion.cli.data"}


def _command_body_lines(func: ast.FunctionDef) -> int:
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring is the --help text, not code
    lines: set[int] = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if hasattr(node, "lineno"):
                lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return len(lines)


def _commands():
    for path in sorted((ROOT / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and any(
                    "command" in ast.unparse(d) for d in node.decorator_list):
                yield pytest.param(node, id=f"{path.stem}:{node.name}")


@pytest.mark.parametrize("func", list(_commands()))
def test_command_bodies_are_thin(func):
    assert _command_body_lines(func) <= 15
