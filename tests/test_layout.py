"""The package's import graph has no cycle (top-level and function-level imports both count).  No model."""

from __future__ import annotations

import ast
from pathlib import Path

QA = Path(__file__).resolve().parents[1] / "qa"


def imports() -> dict[str, set[str]]:
    modules = {f.stem for f in QA.glob("*.py")}
    graph = {}
    for f in QA.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qa."):
                deps.add(node.module.split(".")[1])
        graph[f.stem] = deps & modules - {f.stem}
    return graph


def test_no_import_cycle():
    graph, cycles = imports(), []
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" -> ".join(path + [start]))
                elif nxt not in path:
                    stack.append((nxt, path + [nxt]))
    assert not cycles, cycles[:5]


# The pipeline reads one way: a module may import its own stage, an earlier one, or the shared
# helpers; never a later stage.  A new module must be placed here (the test says so).
STAGES = [
    ("shared", {"settings", "files", "text", "lexicon"}),
    ("ingest", {"formats", "readworker", "ingest"}),
    ("chunk", {"chunk", "metadata"}),
    ("embed", {"embed", "onnx_backend", "embcache"}),
    ("store", {"store", "stores", "vectorindex", "lexical", "pgstore"}),
    ("retrieve", {"retrieve", "query", "rank", "sentence", "verdict"}),
    ("present", {"api", "generate", "evaluate", "page", "ui", "i18n", "cli", "__init__", "__main__"}),
]


def test_every_module_has_a_stage_and_no_stage_imports_a_later_one():
    order = {m: i for i, (_, mods) in enumerate(STAGES) for m in mods}
    graph = imports()
    unplaced = sorted(set(graph) - set(order))
    assert not unplaced, f"place these modules in a stage of tests/test_layout.py: {unplaced}"
    backwards = [f"{m} ({STAGES[order[m]][0]}) imports {d} ({STAGES[order[d]][0]})"
                 for m, deps in graph.items() for d in deps if order[d] > order[m]]
    assert not backwards, backwards


def test_no_function_over_60_lines_without_a_reason():
    """Functions of qa/ stay readable: over 60 lines, the docstring says why ("Over 60 lines because ...")."""
    long = []
    for f in sorted(QA.glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 60 and "over 60 lines because" not in " ".join((ast.get_docstring(node) or "").split()).lower():
                    long.append(f"{f.name}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long
