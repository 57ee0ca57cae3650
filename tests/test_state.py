"""No module-level mutable state in qa/ but what docs/architecture.md declares: the caches on
``qa.Index`` and the process-wide tables and resources listed there, each with its reason.  The
tree is read (ast), not imported, so a new global, ``global`` statement or memo fails here until
it is declared or moved onto the object that owns it (the Index, the page's Page, a store).  No
model."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"

# calls that make a mutable object (a container, a lock, a pool)
MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "deque", "Counter", "Lock", "RLock", "local",
                 "Event", "Condition", "Semaphore", "BoundedSemaphore", "WeakValueDictionary", "WeakKeyDictionary",
                 "ThreadPoolExecutor", "ProcessPoolExecutor"}
# calls whose result is immutable, or a constant of the module (a pattern, a logger, a struct layout)
IMMUTABLE_CALLS = {"frozenset", "tuple", "str", "int", "float", "bool", "bytes", "compile", "getLogger", "Path",
                   "Struct", "TypeVar", "namedtuple", "MappingProxyType", "field", "int.from_bytes", "from_bytes",
                   "Setting", "Settings", "join", "range", "escape", "ParamSpec"}
MUTATORS = {"append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "clear", "remove",
            "discard", "__setitem__"}
MEMO_DECORATORS = {"lru_cache", "cache", "cached"}


def _name(node) -> str:
    """The called or decorating name: ``functools.lru_cache(maxsize=9)`` -> "lru_cache"."""
    node = node.func if isinstance(node, ast.Call) else node
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _mutable(value) -> bool:
    if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        name = _name(value)
        if name in MUTABLE_CALLS:
            return True
        return bool(name) and name not in IMMUTABLE_CALLS and name.lstrip("_")[:1].isupper()  # an instance
    return False


def _constant_name(name: str) -> bool:
    return name.lstrip("_").isupper()


def module_state(path: Path) -> set[str]:
    """``module:name`` of each piece of module-level mutable state in ``path``: a name rebound by a
    ``global`` statement, a memoised function, a module-level (or class-level) mutable object
    (a constant-named table is one only when something mutates it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    found: set[str] = set()
    mutated: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.update(f"{module}:{n}" for n in node.names)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS \
                and isinstance(node.func.value, ast.Name):
            mutated.add(node.func.value.id)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            mutated.update(t.value.id for t in targets if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(_name(d) in MEMO_DECORATORS for d in node.decorator_list):
                found.add(f"{module}:{node.name}")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Name) and _mutable(node.value) and not t.id.startswith("__") \
                        and (not _constant_name(t.id) or t.id in mutated):
                    found.add(f"{module}:{t.id}")
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.Assign, ast.AnnAssign)) and item.value is not None and _mutable(item.value):
                    for t in item.targets if isinstance(item, ast.Assign) else [item.target]:
                        if isinstance(t, ast.Name) and not _constant_name(t.id):
                            found.add(f"{module}:{node.name}.{t.id}")
    return found


def declared() -> set[str]:
    """The state docs/architecture.md declares: its table rows ``| `module` | `name` | why |``."""
    rows = re.findall(r"^\| `([\w/.]+\.py)` \| `([\w.]+)` \|", DOC.read_text(encoding="utf-8"), re.M)
    return {f"{m}:{n}" for m, n in rows}


def test_no_module_level_state_but_what_is_declared():
    found = set().union(*(module_state(f) for f in sorted((ROOT / "qa").rglob("*.py"))))
    undeclared, stale = found - declared(), declared() - found
    assert not undeclared, f"module-level state not declared in docs/architecture.md: {sorted(undeclared)}"
    assert not stale, f"declared in docs/architecture.md but gone from the code: {sorted(stale)}"


def test_the_scan_sees_each_kind_of_state(tmp_path):
    """The scan itself: each kind of state it must see, and the constants it must not."""
    f = tmp_path / "probe.py"
    code = '''
import functools, re, threading
PATTERN = re.compile("x")
TABLE = {"a": 1}
GROWN = {}
_cache = {}
_lock = threading.Lock()
_pool = _Pool()
_loaded = None
def load():
    global _loaded
    GROWN["k"] = 1
@functools.lru_cache(maxsize=None)
def memo(x):
    return x
class Owner:
    shared: dict = {}
    NAMES = ("a",)
    SPANS = {"a": (0, 1)}
__all__ = ["load"]
'''
    f.write_text(code, encoding="utf-8")
    got = {s.split(":", 1)[1] for s in module_state(f)}
    assert got == {"GROWN", "_cache", "_lock", "_pool", "_loaded", "memo", "Owner.shared"}, got
