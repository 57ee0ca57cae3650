"""The ablation tables of docs/verdict.md and docs/ranking.md, from the JSON of ``bulletin-qa eval
--ablation --json OUT`` runs (one row per rule, reading, list or bridge, in their declared order):

    bulletin-qa eval ../shared/eval/dev.jsonl benchmarks/extra_questions.jsonl \\
        ../shared/eval/dev_unanswerable.jsonl benchmarks/bridge_questions.jsonl \\
        --index /tmp/fresh --modes hybrid --ablation --json /tmp/b.json
    bulletin-qa eval ../shared/eval/xquad-dev/questions_en.jsonl ../shared/eval/xquad-dev/questions_zh.jsonl \\
        --modes hybrid --ablation --json /tmp/x.json
    python benchmarks/ablation_tables.py /tmp/b.json /tmp/x.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.retrieve import lists, verdict  # noqa: E402

SHORT = {"dev": "dev", "extra_questions": "extra", "dev_unanswerable": "near misses", "bridge_questions": "bridge",
         "xquad-dev/questions_en": "xquad en", "xquad-dev/questions_zh": "xquad zh"}


def load(paths: list[str]) -> dict:
    sets: dict = {}
    for p in paths:
        sets |= json.loads(Path(p).read_text(encoding="utf-8"))
    return {SHORT.get(name, name): r for name, r in sets.items()}


def cell(results: dict, mode: str, keys: tuple[str, ...]) -> str:
    f = results["modes"].get(mode)
    if f is None:
        return "–"
    return " / ".join(f"{f[k]:.2f}" for k in keys if k in f) or "–"


def table(sets: dict, parts: list[str], what: str, keys_of) -> str:
    names = list(sets)
    lines = [f"| left out | {' | '.join(names)} |", "|---|" + "---|" * len(names),
             f"| nothing (hybrid) | {' | '.join(cell(sets[n], 'hybrid', keys_of(sets[n])) for n in names)} |"]
    for part in parts:
        lines.append(f"| `{part}` | " + " | ".join(cell(sets[n], f"hybrid-no-{part}", keys_of(sets[n])) for n in names)
                     + " |")
    return f"{what}\n\n" + "\n".join(lines)


def main(paths: list[str]) -> None:
    sets = load(paths)
    verdict_parts = [r.name for r in verdict.RULES] + [x.name for x in verdict.READINGS]
    print(table(sets, verdict_parts, "Verdict (recognised for answerable sets, refused for the near misses):",
                lambda r: ("refused",) if not r["answerable"] else ("recognised",)))
    print()
    ranking_parts = [p for p in lists.PARTS if p != "second"]
    answerable = {n: r for n, r in sets.items() if r["answerable"]}
    print(table(answerable, ranking_parts, "Ranking (hybrid hit@1 / hit@5):", lambda r: ("hit@1", f"hit@{r['k']}")))


if __name__ == "__main__":
    main(sys.argv[1:])
