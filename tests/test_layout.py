"""The package's plan is its tree: one subpackage per stage, imports only towards earlier stages,
no import cycle, short functions, no module over 600 lines.  No model.

The stage order is the pipeline's (``qa/__init__.py`` says it in prose):

    text -> ingest -> embed -> index -> retrieve -> generate -> app

``qa/settings.py``, ``qa/files.py`` and ``qa/messages.py`` sit at the top, beside the stages: any stage may use
them, and they import no stage.  A new module goes in its stage's folder; a new folder must be
added to ``STAGES`` below, in its place in the pipeline.
"""

from __future__ import annotations

import ast
from pathlib import Path

QA = Path(__file__).resolve().parents[1] / "qa"
STAGES = ["text", "ingest", "embed", "index", "retrieve", "generate", "app"]
SHARED = {"qa.settings", "qa.files", "qa.messages"}
MAX_LINES = 600


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package."""
    out = {}
    for f in QA.rglob("*.py"):
        parts = list(f.relative_to(QA.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _resolve(name: str, node: ast.ImportFrom) -> list[str]:
    """The qa modules an ``from ... import`` names (absolute, or relative to module ``name``)."""
    if node.level:
        base = name.split(".")
        if not modules()[name].name == "__init__.py":
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        mod = ".".join(base + ([node.module] if node.module else []))
    else:
        mod = node.module or ""
    if not (mod == "qa" or mod.startswith("qa.")):
        return []
    return [mod] + [f"{mod}.{a.name}" for a in node.names]


def imports() -> dict[str, set[str]]:
    mods = modules()
    graph = {}
    for name, f in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                deps |= {d for d in _resolve(name, node) if d in mods}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in mods}
        graph[name] = deps - {name, "qa"}
    return graph


def stage(module: str) -> int | None:
    """The stage index of a module (None for qa itself and the shared modules)."""
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else None


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


def test_every_module_is_in_a_stage_and_no_stage_imports_a_later_one():
    graph = imports()
    unplaced = sorted(m for m in graph if m != "qa" and m not in SHARED and stage(m) is None)
    assert not unplaced, f"put these modules in a stage folder (or add the folder to STAGES): {unplaced}"
    backwards = [f"{m} imports {d}" for m, deps in graph.items() for d in deps
                 if stage(m) is not None and stage(d) is not None and stage(d) > stage(m)]
    assert not backwards, backwards
    shared_up = [f"{m} imports {d}" for m in SHARED for d in graph.get(m, ()) if d not in SHARED]
    assert not shared_up, shared_up


def test_the_stages_are_the_package_folders():
    folders = sorted(p.name for p in QA.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert folders == sorted(STAGES)


def test_no_module_over_600_lines():
    long = {n: len(f.read_text(encoding="utf-8").splitlines()) for n, f in modules().items()}
    assert not {n: c for n, c in long.items() if c > MAX_LINES}


def test_no_function_over_60_lines_without_a_reason():
    """Functions of qa/ stay readable: over 60 lines, the docstring says why ("Over 60 lines because ...")."""
    long = []
    for name, f in sorted(modules().items()):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 60 and "over 60 lines because" not in " ".join((ast.get_docstring(node) or "").split()).lower():
                    long.append(f"{name}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long
