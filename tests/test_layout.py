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
