"""The architecture, measured from the code's own imports (``ast``, imports inside functions too).

- no import cycle among the project's modules;
- at most 8 imports inside functions, each of an optional dependency and commented as such;
- ``derive/calculus`` imports nothing of the neural-network code or the printers;
- the data model (``derive/derivation.py``) imports no printer, code generator or engine;
- ``derive`` imports neither ``verify`` nor ``reports``;
- no private name (``_x``) is imported from another module;
- no file over 600 lines unless its docstring says why.

Run the same measurement by hand: ``python -m pytest tests/test_architecture.py -q``, or
``python tests/test_architecture.py`` to print the import graph's cycles and the lazy imports.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("derive", "verify", "reports")
#: Imports that may sit inside a function: optional dependencies only.
OPTIONAL = {"torch", "matplotlib", "latex2mathml", "playwright", "uvicorn"}
MAX_LAZY = 8
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "gallery" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, is_package: bool, node: ast.AST) -> list[tuple[str, int]]:
    """The project modules an import statement names, each with its line."""
    targets = []
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".")
            if not is_package:
                base = base[:-1]
            base = base[:len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        for alias in node.names:
            candidate = f"{prefix}.{alias.name}"
            targets.append(candidate if candidate in MODULES else prefix)
    found = []
    for target in targets:
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        if target and target != module:
            found.append((target, node.lineno))
    return found


def _imports():
    """module → [(imported module, line, inside a function, top-level module name)]."""
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        edges = []

        def visit(node, nested):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    names = ([a.name for a in child.names] if isinstance(child, ast.Import)
                             else [child.module or ""])
                    top = "." if getattr(child, "level", 0) else names[0].split(".")[0]
                    resolved = _resolve(module, is_package, child)
                    edges.append((resolved, child.lineno, nested, top))
                visit(child, nested or isinstance(child, (ast.FunctionDef,
                                                          ast.AsyncFunctionDef, ast.Lambda)))

        visit(tree, False)
        graph[module] = edges
    return graph


GRAPH = _imports()


def _edges() -> dict[str, set[str]]:
    return {module: {target for resolved, *_ in edges for target, _ in resolved}
            for module, edges in GRAPH.items()}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted."""
    edges = _edges()
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    return sorted(out)


def lazy_imports() -> list[tuple[str, int, str]]:
    """(module, line, top-level name) of every import inside a function."""
    return [(module, line, top) for module, edges in GRAPH.items()
            for _, line, nested, top in edges if nested]


def test_no_import_cycle():
    assert cycles() == []


def test_few_lazy_imports_all_optional_and_commented():
    lazy = lazy_imports()
    assert len(lazy) <= MAX_LAZY, lazy
    for module, line, top in lazy:
        assert top in OPTIONAL, f"{module}:{line} imports {top} inside a function"
        source = MODULES[module].read_text(encoding="utf-8").splitlines()
        around = " ".join(source[max(0, line - 2):line]).lower()
        assert "optional" in around, f"{module}:{line}: say why this import is lazy"


def _imported(prefix: str) -> dict[str, set[str]]:
    return {module: targets for module, targets in _edges().items()
            if module == prefix or module.startswith(prefix + ".")}


def test_calculus_imports_no_network_code_or_printer():
    allowed = ("derive.calculus", "derive.errors")
    for module, targets in _imported("derive.calculus").items():
        for target in targets:
            assert target.startswith(allowed), f"{module} imports {target}"


def test_derivation_data_model_imports_no_printer_engine_or_codegen():
    targets = _edges()["derive.derivation"]
    forbidden = ("derive.printing", "derive.codegen", "derive.engine", "derive.presentations",
                 "derive.cli", "derive.graphs", "derive.layers", "derive.program",
                 "derive.network")
    assert not [t for t in targets if t.startswith(forbidden)], targets


def test_derive_imports_neither_verify_nor_reports():
    for module, targets in _imported("derive").items():
        assert not [t for t in targets if t.startswith(("verify", "reports"))], module


def test_no_private_name_imported_across_modules():
    offenders = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(
                    ".")[0] in PACKAGES):
                offenders += [f"{module}: {a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    assert offenders == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_file_size(module):
    path = MODULES[module]
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    if lines <= MAX_LINES:
        return
    docstring = ast.get_docstring(ast.parse(text)) or ""
    assert "lines" in docstring.lower(), (
        f"{path.relative_to(ROOT)} has {lines} lines: split it, or say in its docstring why "
        "it is one file (a sentence naming its length)")


if __name__ == "__main__":
    for component in cycles():
        print("cycle:", " -> ".join(component))
    for module, line, top in lazy_imports():
        print(f"lazy import: {module}:{line} {top}")
