"""Settings are read in one place (qa/settings.py), at the edges only, into a Settings value passed
down; docs/settings.md's table is that list.  No model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa import settings

ROOT = Path(__file__).resolve().parents[1]


# The edges: the only places that read the environment (os.environ, settings.value or
# Settings.from_env), by module and function; docs/architecture.md names them and says why.
EDGES = {
    "qa/app/cli.py": {"main"},
    "qa/app/web/server.py": {"create_app", "main"},
    "qa/app/api.py": {"Index.__init__", "Index.default", "build"},
    "qa/text/lexicon.py": {"_cached"},  # the process-wide CC-CEDICT tables' cache folder
}


def environment_reads(path: Path) -> set[str]:
    """The functions (qualified names; "<module>" at the top level) of ``path`` that read the
    environment: ``os.environ`` / ``os.getenv``, ``settings.value(...)``, ``Settings.from_env(...)``."""
    import ast

    found: set[str] = set()

    def reads(node) -> bool:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "os" and node.attr in ("environ", "getenv", "environb"):
                return True
            if node.attr == "value" and node.value.id in ("settings", "qa_settings"):
                return True
        if isinstance(node, ast.Attribute) and node.attr == "from_env":
            return True
        if isinstance(node, ast.ImportFrom) and node.module in ("os", "qa.settings"):
            return any(a.name in ("environ", "getenv", "value") for a in node.names)
        return False

    def walk(node, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                walk(child, scope + [child.name])
                continue
            if reads(child):
                found.add(".".join(scope) or "<module>")
            walk(child, scope)

    walk(ast.parse(path.read_text(encoding="utf-8")), [])
    return found


def test_only_the_edges_read_the_environment():
    """Settings are read once at the edge into a Settings value passed down: no module but
    qa/settings.py and the declared edges reads a variable (a new reader fails here; so does an
    edge that no longer reads)."""
    readers = {}
    for f in sorted((ROOT / "qa").rglob("*.py")) + [ROOT / "app.py"]:
        module = f.relative_to(ROOT).as_posix()
        if module != "qa/settings.py" and (found := environment_reads(f)):
            readers[module] = found
    assert readers == EDGES
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for module, functions in EDGES.items():
        assert f"`{module}`" in doc and all(f"`{fn}`" in doc for fn in functions), module


def test_the_environment_scan_sees_each_kind_of_read(tmp_path):
    f = tmp_path / "probe.py"
    f.write_text("import os\nfrom qa import settings\nfrom qa.settings import Settings\n"
                 "A = os.environ.get('X')\n"
                 "def a():\n    return settings.value('MODEL')\n"
                 "class B:\n    def c(self):\n        return Settings.from_env()\n"
                 "def d():\n    return os.getenv('Y')\n"
                 "def e(settings):\n    return settings.model  # given, not read\n", encoding="utf-8")
    assert environment_reads(f) == {"<module>", "a", "B.c", "d"}


def test_the_settings_page_table_is_the_list():
    readme = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert settings.table() in readme
    for name in re.findall(r"BULLETIN_QA_[A-Z_]+", "\n".join(f.read_text(encoding="utf-8")
                                                            for f in (ROOT / "qa").rglob("*.py"))):
        assert name.removeprefix("BULLETIN_QA_") in settings.SETTINGS, name


def test_values_come_from_the_environment_else_the_default(monkeypatch):
    monkeypatch.delenv("BULLETIN_QA_EF_SEARCH", raising=False)
    assert settings.value("EF_SEARCH") == settings.SETTINGS["EF_SEARCH"].default
    monkeypatch.setenv("BULLETIN_QA_EF_SEARCH", " 64 ")
    assert settings.value("EF_SEARCH") == 64
    monkeypatch.setenv("BULLETIN_QA_EF_SEARCH", "many")
    with pytest.raises(ValueError, match="BULLETIN_QA_EF_SEARCH"):
        settings.value("EF_SEARCH")
    for raw, want in (("0", False), ("off", False), ("1", True), ("yes", True)):
        monkeypatch.setenv("BULLETIN_QA_READ_WORKER", raw)
        assert settings.value("READ_WORKER") is want


def test_settings_value_holds_every_setting_typed_with_its_default():
    """Settings is the list: one field per BULLETIN_QA_* variable, its default and kind; from_env
    reads a given environment once; it is frozen and hashable; the secrets stay out of its repr."""
    import dataclasses

    from qa.settings import Settings

    fields = {f.name.upper(): f for f in dataclasses.fields(Settings)}
    assert set(fields) == set(settings.SETTINGS)
    defaults = Settings()
    for name, s in settings.SETTINGS.items():
        assert getattr(defaults, name.lower()) == s.default and fields[name].metadata["meaning"] == s.meaning
    env = {"BULLETIN_QA_EF_SEARCH": " 64 ", "BULLETIN_QA_READ_WORKER": "off", "BULLETIN_QA_READ_SECONDS": "2.5",
           "BULLETIN_QA_MODEL": "my/model", "BULLETIN_QA_PASSWORD": "secret", "XDG_CACHE_HOME": "/x/cache"}
    s = Settings.from_env(env)
    assert (s.ef_search, s.read_worker, s.read_seconds, s.model) == (64, False, 2.5, "my/model")
    assert s.ann_threshold == 20_000 and s.batch == 0 and s.llm_url is None  # unset: the default
    assert s.cache == "/x/cache/bulletin-qa" and s.cache_dir == Path("/x/cache/bulletin-qa")
    assert Settings.from_env({"BULLETIN_QA_CACHE": "/c"}).cache_dir == Path("/c")
    assert "secret" not in repr(s) and s.password == "secret"
    assert s.replace(ef_search=128).ef_search == 128 and s.ef_search == 64
    assert hash(s) == hash(Settings.from_env(env)) and s == Settings.from_env(env)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.ef_search = 1
    with pytest.raises(ValueError, match="BULLETIN_QA_BATCH"):
        Settings.from_env({"BULLETIN_QA_BATCH": "four"})


def test_an_argument_wins_over_the_settings_and_the_settings_over_the_default(tmp_path):
    """What a stage is given decides, never the environment: the upload check's read limits, the
    build's ANN threshold, the user's model."""
    import numpy as np

    from qa.generate.llm import llm_settings
    from qa.index.vectors import build_vector_index, describe
    from qa.settings import Settings

    s = Settings(llm_url="http://127.0.0.1:9/v1", llm_timeout=5.0, ann_threshold=10)
    assert llm_settings(settings=s).timeout == 5.0 and llm_settings(timeout=2, settings=s).timeout == 2
    assert llm_settings() is None  # given nothing: the defaults (no model), whatever the environment says
    x = np.eye(12, dtype=np.float32)
    assert describe(build_vector_index(x, threshold=s.ann_threshold)).startswith("IndexHNSWFlat")
    assert describe(build_vector_index(x)) == "IndexFlatIP"  # the default threshold: 20,000
