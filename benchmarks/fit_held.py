"""Fit the verdict's rule ``about`` (qa/retrieve/calibration.json, key "about") on every dev set at
once: its score is the best dense cosine, plus a weight times that cosine's margin over the mean of
the dense candidate pool, plus a weight times the share of what the question asks for that the
articles of the best passages hold (qa.retrieve.verdict.about_score, held_share).

The questions are those of benchmarks/fit_threshold.py: each answerable set against its own
corpus (positives), the near misses against the bulletins, and each answerable set against the
*other* corpus (off-topic: xquad-dev's questions asked of the bulletins, the bulletin questions
asked of the xquad corpus).  Each question is searched once and judged by every other rule; the
weights (a grid) and a pair of thresholds (English, Chinese; a mixed question slides between
them by its Chinese share) then refuse those the other rules let through whose score is below
it.  The point chosen refuses the most off-topic questions in the language that refuses fewest
(then judges the most right over the nine sets), among the points that lose at most ``KEEP`` of
any answerable set's recognised questions.

    python benchmarks/fit_held.py            # search every question, print the table, write calibration.json
    python benchmarks/fit_held.py --cached   # reuse the searched questions (benchmarks/out/fit_held_rows.json)
    python benchmarks/fit_held.py --dry-run  # print only
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fit_threshold import ANSWERABLE, MODEL, jobs  # noqa: E402 - the same nine sets as the threshold's fit
from qa.retrieve import verdict  # noqa: E402

ROWS = ROOT / "benchmarks" / "out" / "fit_held_rows.json"
KEEP = 0.01  # an answerable set may lose at most this share of its recognised questions to the rule
WEIGHTS = {"margin": [0.0, 0.5, 1.0, 2.0, 3.0], "held": [0.0, 0.02, 0.05, 0.1]}
THRESHOLDS = [(en / 1000, zh / 1000) for en, zh in itertools.product(range(700, 1000, 5), range(800, 1100, 5))]


def searched(index_dir: str | None) -> list[dict]:
    from qa.app.api import Index
    from qa.app.eval import index_for, load_questions, own_corpus
    from qa.settings import Settings
    from qa.text.chars import zh_share

    settings = Settings.from_env()  # a benchmark is an edge: the environment, once
    xquad = index_for(own_corpus(ANSWERABLE["xquad-zh"]), settings)
    rows = []
    for name, kind, f, index in jobs(Index(index_dir, settings=settings), xquad):
        retriever = index.retriever
        for q in load_questions(f):
            store, ranking = retriever.search(q["q"], 5)
            v = verdict.judge(q["q"], ranking, store, store.manifest["settings"]["model"],
                              synonym=lambda w: retriever.has_synonym(store, w), without={"about"})
            held = verdict.held_share(store, ranking.terms, [h.row for h in ranking[:verdict.HELD_TOP]])
            rows.append({"set": f"{name} ({kind})", "kind": kind, "positive": kind == "answerable", "q": q["q"],
                         "zh": zh_share(q["q"]), "refused": not v.answered, "rule": v.rule,
                         "held": held, "best": ranking.best_similarity, "pool": ranking.dense_scores,
                         "covered": ranking.terms.covered})
    return rows


def features(r: dict) -> tuple[float, float, float]:
    """(best cosine, its margin over the dense pool's mean, held share) of one searched question."""
    pool = r.get("pool") or [r["best"] or 0.0]
    best = r["best"] or 0.0
    return best, best - sum(pool) / len(pool), 1.0 if r["held"] is None else r["held"]


def refused(r: dict, p: dict) -> bool:
    """Refused by another rule, or by the score under the fitted point ``p``."""
    if r["refused"]:
        return True
    return verdict.about_score(*features(r), p) < p["en"] + (p["zh"] - p["en"]) * r["zh"]


def shares(rows: list[dict], p: dict) -> dict[str, float]:
    out: dict[str, list[bool]] = {}
    for r in rows:
        out.setdefault(r["set"], []).append(refused(r, p) != r["positive"])
    return {s: sum(v) / len(v) for s, v in out.items()}


def off_topic_by_language(rows: list[dict], p: dict) -> dict[str, float]:
    out: dict[str, list[bool]] = {}
    for r in rows:
        if r["kind"] == "off-topic":
            out.setdefault("zh" if r["zh"] >= 0.5 else "en", []).append(refused(r, p))
    return {lang: sum(v) / len(v) for lang, v in out.items()}


NONE = {"margin": 0.0, "held": 0.0, "en": -9.0, "zh": -9.0}


def fit(rows: list[dict]) -> dict:
    """The point (weights and thresholds) refusing the most off-topic questions in the language
    that refuses fewest, then judging the most right, among those keeping every answerable set."""
    base = shares(rows, NONE)
    keep = {s: v - KEEP for s, v in base.items() if "(answerable)" in s}
    best = None
    for wm, wh in itertools.product(WEIGHTS["margin"], WEIGHTS["held"]):
        scores = [(verdict.about_score(*features(r), {"margin": wm, "held": wh}), r) for r in rows]
        for en, zh in THRESHOLDS:
            p = {"margin": wm, "held": wh, "en": en, "zh": zh}
            s = shares(rows, p)
            if any(s[k] < v - 1e-9 for k, v in keep.items()):
                continue
            off = off_topic_by_language(rows, p)
            key = (min(off.values()), sum(s.values()) / len(s))
            if best is None or key > best[0]:
                best = (key, p)
        del scores
    return best[1]


def table(rows: list[dict], points: list[tuple[str, dict]]) -> str:
    sets = list(shares(rows, NONE))
    out = ["| point | margin, held weights | en, zh | off-topic refused en | zh | " + " | ".join(sets) + " |",
           "|---|---|---|---|---|" + "---|" * len(sets)]
    for name, p in points:
        s, o = shares(rows, p), off_topic_by_language(rows, p)
        out.append(f"| {name} | {p['margin']:g}, {p['held']:g} | {p['en']:.3f}, {p['zh']:.3f} | {o.get('en', 0):.3f} | "
                   f"{o.get('zh', 0):.3f} | " + " | ".join(f"{s[k]:.3f}" for k in sets) + " |")
    return "\n".join(out)


def write(p: dict, path: Path = verdict._CALIBRATION) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data[MODEL]["about"] = {**p, "top": verdict.HELD_TOP, "fitted_on": (
        "python benchmarks/fit_held.py: score = best cosine + margin x (best - mean of the dense pool) + held x "
        f"(share of the question the articles of the best {verdict.HELD_TOP} passages hold); the same questions as "
        "fit_threshold.py; the point refusing the most off-topic questions in the weaker language, then judging "
        f"the most right, among those losing at most {KEEP:.0%} of any answerable set")}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cached", action="store_true", help=f"reuse the searched questions in {ROWS}")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write calibration.json")
    ap.add_argument("--index", help="the bulletins' index (default: the environment's)")
    args = ap.parse_args(argv)
    if args.cached and ROWS.exists():
        rows = json.loads(ROWS.read_text(encoding="utf-8"))
    else:
        rows = searched(args.index)
        ROWS.parent.mkdir(parents=True, exist_ok=True)
        ROWS.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    p = fit(rows)
    print(table(rows, [("without the rule", NONE), ("fitted", p)]))
    if not args.dry_run:
        write(p)
        print(f"wrote {verdict._CALIBRATION}")


if __name__ == "__main__":
    main()
