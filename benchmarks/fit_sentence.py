"""Fit the answering-sentence scorer (qa/retrieve/sentence_weights.json) on every dev set at once,
and report it on held-out folds.

Each answerable question of the four sets (the seed questions and benchmarks/extra_questions.jsonl
against the bulletins, xquad-dev's English and Chinese questions against its corpus) is searched
(hybrid, k = 5).  Every returned passage that holds a key gives one group: its sentences, each with
the features of ``qa.retrieve.highlight.FEATURES``, labelled by whether the span the page would mark
for it (the sentence, with its antecedent when it opens with a pronoun) holds a key.  The scorer is
a conditional logit (a softmax over a passage's sentences; L2 penalty), so only how sentences of
one passage differ counts.

Held out: five folds by article (an xquad article's English and Chinese questions in the same
fold; the bulletins by file), each fold scored by a model fitted on the other four.  Reported per
set: answer@1 (the first card's marked span(s) hold a key, of all answerable questions) for the
hand rule of before (``best_sentence``), the scorer's best sentence alone, and with the second
sentence marked when it scores within ``close`` of the first, with the share of cards marked twice.
``close`` is chosen on the held-out scores: the largest on the grid that marks at most
``MAX_TWO`` of the first cards twice.

    python benchmarks/fit_sentence.py --index /tmp/fresh     # search, fit, report, write the weights
    python benchmarks/fit_sentence.py --cached               # reuse the searched rows (benchmarks/out/)
    python benchmarks/fit_sentence.py --cached --dry-run     # print only
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.app.api import Index  # noqa: E402
from qa.app.eval import index_for, load_questions, norm, own_corpus  # noqa: E402
from qa.retrieve import highlight  # noqa: E402
from qa.retrieve.lists import term_weights  # noqa: E402
from qa.settings import Settings  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
SETS = {"dev": EVAL / "dev.jsonl", "extra": ROOT / "benchmarks" / "extra_questions.jsonl",
        "xquad-en": EVAL / "xquad-dev" / "questions_en.jsonl", "xquad-zh": EVAL / "xquad-dev" / "questions_zh.jsonl"}
ROWS = ROOT / "benchmarks" / "out" / "fit_sentence_rows.json"
FOLDS = 5
L2 = 1.0  # penalty on the standardised weights (a sum over ~4,000 passages)
MAX_TWO = 0.20  # at most this share of first cards marked twice
CLOSE_GRID = [round(x, 2) for x in np.arange(0.0, 2.01, 0.05)]


def holds(keys: list[str], text: str, every: bool) -> bool:
    t = norm(text)
    return all(k in t for k in keys) if every else any(k in t for k in keys)


def searched(index_location: str | None) -> list[dict]:
    """One row per (question, returned passage): what the scorer reads of its sentences (their
    texts, the question's weighted terms, the sentences' e5 similarities, what is asked), their
    labels, the hand rule's pick; the passages without a key are kept (labels all 0) for answer@1.
    The features are computed from these at fit time (``features``), so a new one needs no search."""
    settings = Settings.from_env()  # a benchmark is an edge: the environment, once
    xquad = index_for(own_corpus(SETS["xquad-zh"]), settings)
    bulletins = Index(index_location, settings=settings)
    rows = []
    for name, path in SETS.items():
        index = xquad if name.startswith("xquad") else bulletins
        r = index.retriever
        for q in load_questions(path):
            if not q["keys"]:
                continue
            keys, every = [norm(k) for k in q["keys"]], q.get("mode") == "all"
            store, ranking = r.search(q["q"], k=5)
            qvec = r.embedder.embed_queries([q["q"]])[0]
            cue = highlight.answer_cue(ranking.terms)
            for rank, h in enumerate(ranking, 1):
                spans, texts, sims = r.sentence_sims(store, h.row, qvec, None)
                if not spans:
                    continue
                text = store.passages[h.row]["text"]
                weights = term_weights(cue.weights, store.idf)
                marked = [highlight.with_antecedent(spans, texts, s, text) for s in spans]
                rule = highlight.with_antecedent(
                    spans, texts, highlight.best_sentence(spans, texts, weights, sims, cue.asked), text)
                group = q.get("doc") or store.passages[ranking[0].row]["source"]
                rows.append({"set": name, "id": q["id"], "rank": rank, "group": f"{index.location}:{group}",
                             "texts": texts, "weights": weights, "sims": None if sims is None else sims.round(5).tolist(),
                             "kinds": sorted(cue.asked.kinds), "places": [p.code for p in cue.asked.places],
                             "grams": sorted(cue.grams),
                             "y": [int(holds(keys, text[a:b], every)) for a, b in marked],
                             "rule": int(holds(keys, text[rule[0]:rule[1]], every))})
        print(f"{name}: searched", file=sys.stderr)
    return rows


def features(rows: list[dict]) -> None:
    """Each row's feature matrix (``X``) from what was searched, as the search computes it."""
    from qa.text.lexicon import places

    by_code = {p.code: p for p in places().all}
    for r in rows:
        asked = highlight.Asked(frozenset(r["kinds"]), tuple(by_code[c] for c in r["places"] if c in by_code))
        sims = None if r["sims"] is None else np.asarray(r["sims"])
        r["X"] = highlight.sentence_features(r["texts"], r["weights"], sims, asked, frozenset(r["grams"]))


def fit(groups: list[tuple[np.ndarray, np.ndarray]], mean, scale, l2: float = L2) -> np.ndarray:
    """Weights of the conditional logit over the groups (features standardised by mean, scale)."""
    data = [((X - mean) / scale, y.astype(float)) for X, y in groups if 0 < y.sum() < len(y)]
    d = len(mean)

    def loss(w):
        total, grad = l2 * w @ w / 2, l2 * w
        for X, y in data:
            s = X @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            q = p * y / max((p * y).sum(), 1e-300)  # the posterior over the positives
            total -= np.log(max((p * y).sum(), 1e-300))
            grad = grad - X.T @ (q - p)
        return total, grad

    return minimize(loss, np.zeros(d), jac=True, method="L-BFGS-B").x


def picks(X: np.ndarray, w, mean, scale, close: float) -> list[int]:
    s = ((X - mean) / scale) @ w
    order = np.argsort(-s, kind="stable")
    out = [int(order[0])]
    if len(order) > 1 and s[order[0]] - s[order[1]] < close:
        out.append(int(order[1]))
    return out


def report(rows: list[dict], scored: dict, close_grid=CLOSE_GRID) -> tuple[dict, float]:
    """answer@1 per set: the hand rule, the scorer's best alone, and with a second mark at each close."""
    firsts = [r for r in rows if r["rank"] == 1]
    sets = {}
    for name in SETS:
        qs = {r["id"] for r in rows if r["set"] == name}
        mine = [r for r in firsts if r["set"] == name]
        n = len(qs) or 1
        out = {"questions": len(qs), "rule": sum(r["rule"] for r in mine) / n}
        for close in close_grid:
            hit = two = 0
            for r in mine:
                p = picks(np.asarray(r["X"]), *scored[(r["set"], r["id"])], close)
                hit += any(r["y"][i] for i in p)
                two += len(p) > 1
            out[close] = (hit / n, two / n)
        sets[name] = out
    allowed = [c for c in close_grid if max(sets[s][c][1] for s in sets) <= MAX_TWO]
    return sets, max(allowed) if allowed else 0.0


def standardise(rows):
    X = np.vstack([np.asarray(r["X"]) for r in rows])
    mean, scale = X.mean(axis=0), X.std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", help="the bulletins' index (default: the environment's)")
    ap.add_argument("--cached", action="store_true")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()
    if args.cached:
        rows = json.loads(ROWS.read_text())
    else:
        rows = searched(args.index)
        ROWS.parent.mkdir(exist_ok=True)
        ROWS.write_text(json.dumps(rows, ensure_ascii=False))
    features(rows)
    groups = sorted({r["group"] for r in rows})
    fold_of = {g: i % FOLDS for i, g in enumerate(np.random.default_rng(0).permutation(groups))}
    mean, scale = standardise(rows)
    scored = {}
    for f in range(FOLDS):
        train = [(np.asarray(r["X"]), np.asarray(r["y"])) for r in rows if fold_of[r["group"]] != f]
        w = fit(train, mean, scale)
        for r in rows:
            if fold_of[r["group"]] == f:
                scored[(r["set"], r["id"])] = (w, mean, scale)
    held, close = report(rows, scored)
    w = fit([(np.asarray(r["X"]), np.asarray(r["y"])) for r in rows], mean, scale)
    whole, _ = report(rows, {(r["set"], r["id"]): (w, mean, scale) for r in rows}, [0.0, close])
    print(f"answer@1 on held-out folds ({FOLDS} folds by article), then fitted on all (in brackets)")
    print(f"| set | questions | hand rule | scorer, one mark | scorer, two when within {close} (share marked twice) |")
    print("|---|---|---|---|---|")
    for name, s in held.items():
        print(f"| {name} | {s['questions']} | {s['rule']:.3f} | {s[0.0][0]:.3f} ({whole[name][0.0][0]:.3f}) | "
              f"{s[close][0]:.3f} ({s[close][1]:.2f}) ({whole[name][close][0]:.3f}) |")
    print("\nheld-out answer@1 by close (share marked twice), per set:")
    for c in CLOSE_GRID[::4]:
        print(f"  {c:.2f}: " + "  ".join(f"{n} {held[n][c][0]:.3f} ({held[n][c][1]:.2f})" for n in held))
    print("\nweights:", ", ".join(f"{f} {v:+.2f}" for f, v in zip(highlight.FEATURES, w)))
    if not args.dry_run:
        out = {"features": list(highlight.FEATURES), "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
               "weights": w.round(6).tolist(), "close": close,
               "held_out": {n: {"hand_rule": round(s["rule"], 3), "one_mark": round(s[0.0][0], 3),
                                "two_marks": round(s[close][0], 3), "marked_twice": round(s[close][1], 3)}
                            for n, s in held.items()},
               "fitted_on": "python benchmarks/fit_sentence.py: every passage holding a key among the top 5 of each "
                            "answerable question of dev.jsonl, extra_questions.jsonl and xquad-dev (en, zh); "
                            f"conditional logit, L2 {L2}; held_out: {FOLDS} folds by article; close: the largest "
                            f"that marks at most {MAX_TWO:.0%} of first cards twice on the held-out folds"}
        highlight._WEIGHTS.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
        print(f"\nwrote {highlight._WEIGHTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
