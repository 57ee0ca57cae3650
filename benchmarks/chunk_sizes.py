"""Passage length, measured on every dev set in one run (what chose qa/ingest/chunk.py's CHUNK_SIZE).

For each size (overlap a fifth of it), fresh indexes of the bulletins and of xquad-dev's corpus
are built under benchmarks/out/chunks/ (embeddings come from the cache after the first size),
and each set is evaluated in every mode asked.  Prints one markdown table: hit@1 / hit@5 /
sentence@1 per set, and the share of near misses refused.

    python benchmarks/chunk_sizes.py                       # 300,400,450,500,600; hybrid
    python benchmarks/chunk_sizes.py --sizes 300,500 --modes hybrid,dense,lexical
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fit_threshold import ANSWERABLE, NEAR_MISSES  # noqa: E402 - the same dev sets as the threshold's fit
from qa.app.api import Index  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.app.eval import evaluate, load_questions, own_corpus  # noqa: E402
from qa.index.folder import build_index  # noqa: E402

# set -> (questions, the corpus they are asked of: their own, else the bulletins)
SETS = {name: (f, own_corpus(f) or ROOT / "corpus") for name, f in {**ANSWERABLE, "near misses": NEAR_MISSES}.items()}
CORPORA = sorted(set(c for _f, c in SETS.values()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="300,400,450,500,600")
    ap.add_argument("--modes", default="hybrid")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "chunks"))
    args = ap.parse_args()
    modes = args.modes.split(",")
    settings = Settings.from_env()
    embedder = Index.embedder_for(settings)
    print("| size / overlap | mode | " + " | ".join(SETS) + " |")
    print("|---|---|" + "---|" * len(SETS))
    for size in map(int, args.sizes.split(",")):
        indexes = {}
        for corpus in CORPORA:
            indexes[corpus] = Path(args.out) / f"{corpus.parent.name}-{corpus.name}-{size}"
            build_index(corpus, indexes[corpus], embedder, chunk_size=size, chunk_overlap=size // 5, wait=None,
                        second=Index.second_model(settings), settings=settings)
        results = {s: evaluate(load_questions(f), modes, k=5, index=Index(indexes[c], corpus=c, settings=settings))
                   for s, (f, c) in SETS.items()}
        for mode in modes:
            cells = []
            for s in SETS:
                fig = results[s]["modes"][mode]
                cells.append(f"{fig['refused']:.2f} refused" if "refused" in fig and "hit@1" not in fig else
                             f"{fig['hit@1']:.3f} / {fig['hit@5']:.2f} / {fig.get('sentence@1', 0):.2f}")
            print(f"| {size} / {size // 5} | {mode} | " + " | ".join(cells) + " |", flush=True)
    print("\ncells: hit@1 / hit@5 / sentence@1 (near misses: the share refused)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
