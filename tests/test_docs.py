"""The front door and the docs: README stays short with the two commands first, every relative link
of README, CONTRIBUTING and docs/ resolves.  No model."""

from __future__ import annotations

import re
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`+[^`]*`+")  # a link written inside code is an example, not a link


def test_readme_is_short_and_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[0] == "## The two commands"
    first = text.index("## The two commands")
    assert text.index("make serve", first) < text.index("## ", first + 3)
    assert text.index("make test", first) < text.index("## ", first + 3)


def test_every_relative_link_resolves():
    broken = []
    for doc in DOCS:
        for target in LINK.findall(CODE.sub("", doc.read_text(encoding="utf-8"))):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (doc.parent / target.split("#")[0]).resolve()
            if not path.exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert not broken, broken


