"""Settings are read in one place (qa/settings.py) and docs/settings.md's table is that list.  No model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa import settings

ROOT = Path(__file__).resolve().parents[1]


def test_no_other_module_reads_the_environment_for_a_setting():
    readers = []
    for f in sorted((ROOT / "qa").rglob("*.py")) + [ROOT / "app.py"]:
        if f.name == "settings.py":
            continue
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"os\.environ|getenv", line) and "XDG_CACHE_HOME" not in line:
                readers.append(f"{f.name}:{n}: {line.strip()}")
    assert not readers, readers


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
