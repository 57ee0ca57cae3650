"""Build cost against the bare encode (issue 30): ``python benchmarks/run.py --build-cost``.

The corpus (made once into benchmarks/out/build-cost/corpus): the five seed bulletins, the 24
xquad-dev Wikipedia articles (../shared/eval/xquad-dev/corpus, when present) and ``SYNTH``
synthetic bulletins of benchmarks/synth.py.  "Real" text: the seeds and xquad-dev are real
articles; a synthetic bulletin is a real seed headline over real seed sentences with their
numbers varied and their names swapped for others of jieba's dictionary (``vary_names``), so its
sentences are real Chinese, its combination is not.  Articles are counted as the chunker cuts
them (qa/ingest/chunk.py).

Two processes (benchmarks/archive.py's ``child``: each its own CPU-seconds, its children's too;
the models loaded before the clock starts): a build from scratch into a fresh folder
(``bulletin-qa index``'s work: read, chunk, e5 passages and their sentences, the lexical side,
the second model's term vectors, the write), and the bare int8 encode of the same passages
(``Index.embedder_for(settings).embed_passages(texts)``).  The ratio is the first over the second.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import archive
import synth

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "build-cost"
XQUAD = ROOT.parent / "shared" / "eval" / "xquad-dev" / "corpus"
SYNTH = 180


def make_corpus() -> Path:
    corpus, done = OUT / "corpus", OUT / "corpus.done"
    if not done.is_file():
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.copytree(synth.SEEDS, corpus)
        if XQUAD.is_dir():
            for f in sorted(XQUAD.iterdir()):
                shutil.copy(f, corpus / f.name)
        synth.write_bulletins(corpus, SYNTH, seed=30, vary_names=True)
        done.touch()
    return corpus


def bench_build_cost() -> dict:
    corpus = make_corpus()
    chunks = archive.chunks_of(corpus)
    articles = len({(c.source, c.article) for c in chunks})
    index = OUT / "index"
    shutil.rmtree(index, ignore_errors=True)
    bare = archive.child("bare", str(corpus), "0")
    build = archive.child("build", str(corpus), str(index), "real")
    return {"articles": articles, "passages": len(chunks), "xquad_articles": len(list(XQUAD.glob("*"))),
            "synthetic_bulletins": SYNTH, "build_cpu_s": build["cpu_s"], "bare_cpu_s": bare["cpu_s"],
            "ratio": round(build["cpu_s"] / bare["cpu_s"], 2), "build_wall_s": build["wall_s"]}


def table(r: dict) -> str:
    return "\n".join([
        "| corpus | articles | passages | build CPU-s | bare int8 encode CPU-s | build / bare |",
        "|---|---|---|---|---|---|",
        f"| 5 seed bulletins + {r['xquad_articles']} xquad-dev articles + {r['synthetic_bulletins']} real-sentence "
        f"synthetic bulletins | {r['articles']} | {r['passages']} | {r['build_cpu_s']} | {r['bare_cpu_s']} | "
        f"**{r['ratio']}x** |"])
