"""The package's layering, read from the source: no import cycles, and no layer importing one
above it (ARCHITECTURE.md: errors/health/config -> drivers -> pipeline -> receipts/telemetry ->
daemon/web -> cli).

Every `import` counts, wherever it is written: at module level, inside a function or under
`if TYPE_CHECKING:`. A function-level import that breaks a cycle at run time still couples the
two modules both ways, so it is still a cycle here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import edge

ROOT = Path(edge.__file__).parent

# (importer prefix, forbidden imported prefixes, importers exempt)
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("edge.drivers", ("edge.pipeline", "edge.receipts", "edge.telemetry", "edge.web",
                      "edge.cli", "edge.delivery"), ()),
    ("edge.pipeline", ("edge.web", "edge.cli", "edge.delivery"), ()),
    ("edge", ("edge.cli",), ("edge.cli", "edge.__main__")),
]



@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        path = module_path(self.importer).relative_to(ROOT.parent)
        return f"{self.importer} imports {self.imported} ({path}:{self.line})"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_path(name: str) -> Path:
    base = ROOT.parent.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def targets(importer: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The project modules an import statement names (`from a import b` is `a.b` when b is a
    module, else `a`)."""
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names)
        return
    base = node.module or ""
    if node.level:
        package = importer if module_path(importer).name == "__init__.py" else \
            importer.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        yield sub if sub in MODULES else base


def imports() -> list[Import]:
    out: set[Import] = set()
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out |= {Import(name, t, node.lineno) for t in targets(name, node)
                        if t in MODULES and t != name}
    return sorted(out, key=str)


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def cycles(edges: list[Import]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in edges:
        graph[e.importer].add(e.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_reader_sees_function_level_and_relative_imports():
    tree = ast.parse("def f():\n    from edge.pipeline import queue\n"
                     "from . import config\nfrom .drivers import device\n")
    found = [t for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
             for t in targets("edge.daemon", node)]
    assert sorted(found) == ["edge.config", "edge.drivers.device", "edge.pipeline.queue"]
    assert cycles([Import("edge.config", "edge.daemon", 1),
                   Import("edge.daemon", "edge.config", 1)]) == [["edge.config", "edge.daemon"]]


def test_no_import_cycles_among_the_project_modules():
    edges = imports()
    problems = []
    for component in cycles(edges):
        inside = [str(e) for e in edges if e.importer in component and e.imported in component]
        problems.append(f"cycle among {', '.join(component)}:\n    " + "\n    ".join(inside))
    assert not problems, "\n".join(problems)


def test_no_layer_imports_one_above_it():
    problems = []
    for e in imports():
        for importer, forbidden, exempt in RULES:
            if not under(e.importer, importer) or any(under(e.importer, x) for x in exempt):
                continue
            if any(under(e.imported, f) for f in forbidden):
                problems.append(f"{e}: {importer} must not import {e.imported}")
    assert not problems, "\n".join(problems)

