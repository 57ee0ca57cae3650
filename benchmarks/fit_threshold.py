"""Fit the verdict's similarity threshold (qa/calibration.json) on every dev set at once.

Positives: each answerable set against its own index (the seed questions and
benchmarks/extra_questions.jsonl against the bulletins; xquad-dev's English and Chinese
questions against its corpus).  Negatives: ../shared/eval/dev_unanswerable.jsonl against the
bulletins, and every answerable set against the *other* corpus (a bulletin question asked of
Wikipedia articles, and the reverse, is off-topic there).  Each question is judged once with
no threshold (the verdict's other checks still refuse some); a threshold pair (English,
Chinese; a mixed question slides between them by its Chinese share) then refuses the rest
whose best dense cosine falls below it.  The pair kept maximises the mean, over the sets, of
the share judged right (recognised for positives, refused for negatives).

    python benchmarks/fit_threshold.py            # prints the table and the best pairs
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import verdict  # noqa: E402
from qa.api import search  # noqa: E402
from qa.evaluate import index_for, load_questions, own_corpus  # noqa: E402
from qa.query import zh_share  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
ANSWERABLE = {"dev": EVAL / "dev.jsonl", "extra": ROOT / "benchmarks" / "extra_questions.jsonl",
              "xquad-en": EVAL / "xquad-dev" / "questions_en.jsonl",
              "xquad-zh": EVAL / "xquad-dev" / "questions_zh.jsonl"}
NEAR_MISSES = EVAL / "dev_unanswerable.jsonl"


def judged() -> list[dict]:
    verdict.calibration = lambda: {}  # judge with every check but the threshold
    xquad = index_for(own_corpus(ANSWERABLE["xquad-zh"]))
    jobs = [(name, "answerable", f, None if name in ("dev", "extra") else xquad) for name, f in ANSWERABLE.items()]
    jobs += [(name, "off-topic", f, xquad if name in ("dev", "extra") else None) for name, f in ANSWERABLE.items()]
    jobs.append(("near misses", "not answerable", NEAR_MISSES, None))
    rows = []
    for name, kind, f, index in jobs:
        for q in load_questions(f):
            r = search(q["q"], 5, index=index)
            rows.append({"set": f"{name} ({kind})", "positive": kind == "answerable", "zh": zh_share(q["q"]),
                         "refused": not r.answered, "best": r.best_similarity or 0.0})
    return rows


def right_shares(rows: list[dict], en: float, zh: float) -> dict[str, float]:
    out: dict[str, list[bool]] = {}
    for r in rows:
        refused = r["refused"] or r["best"] < en + (zh - en) * r["zh"]
        out.setdefault(r["set"], []).append(refused != r["positive"])
    return {s: sum(v) / len(v) for s, v in out.items()}


def main() -> None:
    rows = judged()
    grid = [(en / 1000, zh / 1000) for en, zh in itertools.product(range(700, 801, 5), range(820, 901, 5))]
    fits = sorted(((sum(s.values()) / len(s), en, zh, s) for en, zh in grid
                   for s in [right_shares(rows, en, zh)]), key=lambda t: -t[0])
    sets = list(fits[0][3])
    print("| en | zh | mean | " + " | ".join(sets) + " |")
    print("|---|---|---|" + "---|" * len(sets))
    for mean, en, zh, s in fits[:5]:
        print(f"| {en:.3f} | {zh:.3f} | {mean:.3f} | " + " | ".join(f"{s[k]:.3f}" for k in sets) + " |")


if __name__ == "__main__":
    main()
