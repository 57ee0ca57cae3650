"""bulletin-qa benchmarks: one command, one run, all ratios from the same run.

    python benchmarks/run.py                                   # seed,1k,100k,1m; both backends
    python benchmarks/run.py --sizes seed,100k --backends onnx-int8 --json benchmarks/out/bench.json

Prints markdown tables and writes JSON (default ``benchmarks/out/results.json``).  Generated
data (synthetic corpora, vector arrays, indexes) goes to ``benchmarks/out/`` (git-ignored).

* seed — the 5 seed bulletins (39 passages of 500 characters; the table prints the count): bare
  ``encode`` throughput (of the passages, and of the passages with their sentences, which builds
  encode too) next to the build throughput on the same passages (per backend), warm hybrid query latency with its parts
  (each stage timed through the Retriever's timing hook, ``Retriever.on_stage``), cold
  start (process start -> first answer, subprocess), peak RSS, index size on disk.
* 1k — 1000 synthetic bulletins from the seeds' sentences (benchmarks/synth.py, seeded):
  first build, then one new bulletin -> re-index (embedded count and seconds), warm latency.
* 100k / 1m — synthetic vectors (real seed sentence vectors + perturbation along their own
  principal directions + noise; benchmarks/synth.py) and synthetic token lists: dense search
  exact vs the automatically chosen index (qa/index/vectors.py) with recall@10 against exact,
  the second model's vectors the same way, lexical search via bm25s (what
  ``StoredIndex.lexical`` runs).  Embedding is not involved at these sizes.
* ``--archive N`` — an archive of N passages (real-sentence bulletins, benchmarks/archive.py) built
  into a folder and into PostgreSQL: build CPU-seconds against the bare encode of the same
  passages, hybrid p50/p95 in each store, peak memory of the build and of a query process, index
  size.  ``--vectors cheap`` (the default) leaves the model's encode out of the builds (stand-in
  vectors; the encode measured on ``--bare-sample`` passages and scaled); ``--vectors real``
  encodes everything (~0.2 CPU-s a passage on 2 cores: ~5.5 CPU-hours at 10^5).
* ``--db seed,1k,100k`` — the index in PostgreSQL + pgvector (qa/index/postgres.py) on a throw-away
  server (pgserver): build time and warm hybrid p50 through the database against the folder on
  the seed corpus and the 1k synthetic bulletins, in the same run; and pgvector's HNSW over 100k
  synthetic e5 vectors: recall@10 against exact and p50 at several ef_search.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import synth  # noqa: E402
from qa.settings import Settings  # noqa: E402 - a benchmark is an edge: it reads the environment

DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
FALLBACK_QUERIES = ["甘肃酒泉 certified-worker goal", "温州 社工站", "How many volunteer service organizations has Wenzhou incubated?",
                    "湖北省社会工作人才队伍建设目标", "持证社会工作者总数"]


def queries() -> list[str]:
    if DEV.is_file():
        return [json.loads(line)["q"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return FALLBACK_QUERIES


def pct(xs, p) -> float:
    return float(np.percentile(np.asarray(xs, dtype=np.float64), p)) if len(xs) else float("nan")


def ms(xs) -> dict:
    return {"p50_ms": round(1000 * pct(xs, 50), 3), "p95_ms": round(1000 * pct(xs, 95), 3), "n": len(xs)}


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def machine() -> dict:
    model = platform.processor()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    import faiss
    import torch

    return {"cpu": model, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "faiss_threads": faiss.omp_get_max_threads(), "python": platform.python_version(),
            "torch": torch.__version__, "faiss": faiss.__version__,
            "loadavg_at_start": os.getloadavg()[0]}


# ----------------------------------------------------------------------------- timing the Retriever's parts

class StageTimes:
    """The Retriever's timing hook (``Retriever.on_stage``): each stage's seconds, per search."""

    def __init__(self):
        self.t: dict[str, float] = {}

    def __call__(self, name: str, seconds: float) -> None:
        self.t[name] = self.t.get(name, 0.0) + seconds


def warm_latency(index_dir: Path, embedder, qs: list[str], reps: int = 3) -> dict:
    """p50/p95 of hybrid ``Retriever.search``, of its parts, and of what it is compared with:
    the bare e5 query embedding, dense alone and lexical alone.  Each query is timed in all
    of these in turn (interleaved), so a drift of the machine's speed during the run cannot
    favour one of them."""
    from qa import Index

    r = Index(index_dir, embedder=embedder).retriever  # the environment's settings, the process's models
    for q in qs:  # warm: models loaded, index mapped, jieba ready
        r.search(q, k=5)
    ensemble = r.store.has_second
    embed = r.embedder.embed_queries  # the bare e5 query embedding, unwrapped
    timer = StageTimes()
    bare, both, totals, parts = [], [], [], {}
    single: dict[str, list[float]] = {"dense": [], "lexical": []}
    try:
        for _ in range(reps):
            for q in qs:
                t0 = time.perf_counter()
                embed([q])
                bare.append(time.perf_counter() - t0)
                if ensemble:  # both query encoders, one after the other
                    t0 = time.perf_counter()
                    embed([q])
                    r.second.embed_queries([q])
                    both.append(time.perf_counter() - t0)
                for mode in ("dense", "lexical"):
                    t0 = time.perf_counter()
                    r.search(q, k=5, mode=mode)
                    single[mode].append(time.perf_counter() - t0)
                timer.t = {}
                r.on_stage = timer
                t0 = time.perf_counter()
                r.search(q, k=5)
                total = time.perf_counter() - t0
                r.on_stage = None
                totals.append(total)
                for name, v in timer.t.items():
                    parts.setdefault(name, []).append(v)
                parts.setdefault("other (filters, checks)", []).append(total - sum(timer.t.values()))
    finally:
        r.on_stage = None
    parts = {k: v + [0.0] * (len(totals) - len(v)) for k, v in parts.items()}  # parts some queries skip
    out = {"hybrid_total": ms(totals), "bare_query_embedding": ms(bare), "ensemble": ensemble,
           "dense_total": ms(single["dense"]), "lexical_total": ms(single["lexical"]),
           "parts": {k: ms(v) for k, v in parts.items()},
           "ratio_p50_total_to_bare_embedding": round(pct(totals, 50) / pct(bare, 50), 2),
           "ratio_p50_hybrid_to_dense": round(pct(totals, 50) / pct(single["dense"], 50), 2)}
    if both:
        out["both_query_encoders"] = ms(both)
        out["ratio_p50_total_to_both_encoders"] = round(pct(totals, 50) / pct(both, 50), 2)
    return out


# ----------------------------------------------------------------------------- seed / 1k

def chunks_of(corpus: Path) -> list:
    from qa.ingest.chunk import chunk_document
    from qa.ingest.read import list_corpus, read_document

    return [c for p in list_corpus(corpus) for c in chunk_document(read_document(p, p.relative_to(corpus).as_posix()))]


def passages_of(corpus: Path) -> list[str]:
    return [c.embed_text for c in chunks_of(corpus)]


def e5_build_texts(chunks: list) -> list[str]:
    """Everything a build encodes with e5: each passage (its embed_text) and each of its
    sentences as qa.index.build.sentence_texts gives them (the sentence list of the fusion)."""
    from qa.index.build import sentence_texts

    return [c.embed_text for c in chunks] + sentence_texts([c.to_dict() for c in chunks])


def bare_encode_all(embedder, chunks: list) -> float:
    """passages/s of the model's own encode when it encodes what the build does (passages and
    their sentences): the build's like-for-like baseline since builds embed sentences too."""
    texts = e5_build_texts(chunks)
    return len(chunks) / (len(texts) / bare_encode(embedder, texts))


def bare_encode(embedder, texts: list[str]) -> float:
    """passages/s of the model's own encode (sentence-transformers or the ONNX encoder), same batch size."""
    embedder.st.encode(texts[:8], prompt=embedder.prefixes["passage"], batch_size=embedder.batch_size)
    t0 = time.perf_counter()
    embedder.st.encode(texts, prompt=embedder.prefixes["passage"], batch_size=embedder.batch_size,
                       normalize_embeddings=True, convert_to_numpy=True)
    return len(texts) / (time.perf_counter() - t0)


def timed_build(corpus: Path, index: Path, embedder, second, fresh: bool = True, ensemble: bool = False):
    from qa.index.folder import build_index

    if fresh and index.exists():
        shutil.rmtree(index)
    t0 = time.perf_counter()
    rep = build_index(corpus, index, embedder, second=second, ensemble=ensemble, wait=None,
                      settings=Settings.from_env())
    return rep, time.perf_counter() - t0


def cold_start(index_dir: Path, backend: str, query: str) -> dict:
    """Process start -> first answer, and the process's peak RSS."""
    code = ("import resource, time, json\n"
            "from qa import search\n"
            f"hits = search({query!r}, k=5, index={str(index_dir)!r})\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
            "print(json.dumps({'hits': len(hits), 'maxrss_mb': int(hwm) / 1024}))\n")
    env = dict(os.environ, BULLETIN_QA_BACKEND=backend, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(ROOT))
    wall = time.perf_counter() - t0
    if out.returncode:
        return {"error": out.stderr[-500:]}
    info = json.loads(out.stdout.strip().splitlines()[-1])
    return {"seconds": round(wall, 2), "peak_rss_mb": round(info["maxrss_mb"], 1), "hits": info["hits"]}


def build_peak_memory(corpus: Path, index: Path, backend: str) -> dict:
    """Peak RSS (VmHWM: ru_maxrss survives exec on Linux) of a whole `bulletin-qa index --rebuild` process (the embedding cache is removed first)."""
    shutil.rmtree(index, ignore_errors=True)
    code = ("import resource, sys\nfrom qa.app.cli import main\n"
            f"rc = main(['index', '-q', '--rebuild', '--corpus', {str(corpus)!r}, '--index', {str(index)!r}])\n"
            "print(int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) / 1024)\n")
    env = dict(os.environ, BULLETIN_QA_BACKEND=backend, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(ROOT))
    if out.returncode:
        return {"error": out.stderr[-500:]}
    return {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(float(out.stdout.strip().splitlines()[-1]), 1)}


def bench_seed(backends: list[str], qs: list[str], reps: int) -> dict:
    from qa.embed.model import Embedder
    from qa.index.build import default_second_model
    from qa.index.folder import live_version

    from qa.text.sentences import sentences

    corpus = synth.SEEDS
    chunks = chunks_of(corpus)
    texts = [c.embed_text for c in chunks]
    sentence_texts = [c.text for c in chunks]
    second = default_second_model(Settings.from_env())
    res = {"passages": len(texts), "backends": {}}
    for backend in backends:
        e = Embedder(backend=backend, settings=Settings.from_env())
        _ = e.dim  # load the model outside the timings
        row: dict = {"model_id": e.model_id}
        row["bare_encode_passages_per_s"] = round(bare_encode(e, texts), 2)
        row["bare_encode_with_sentences_passages_per_s"] = round(bare_encode_all(e, chunks), 2)
        if second is not None:  # loaded outside the timings too (the one-thread instance builds use);
            second.word_table()  # then its bare encode of what an ensemble embeds
            second.embed_queries(["x"])
            second.embed_passages(texts[:8])
            t0 = time.perf_counter()
            second.embed_passages(texts)
            second.embed_passages([t[a:b] for t in sentence_texts for a, b in sentences(t)])
            t_second = time.perf_counter() - t0
            row["bare_encode_both_models_passages_per_s"] = round(
                1 / (1 / row["bare_encode_passages_per_s"] + t_second / len(texts)), 2)
        base = OUT / f"seed-{backend}"
        # the default build (e5 + the second model's term vectors for the word bridge), one
        # without the second model, and an ensemble build (second-model passage and sentence
        # vectors too); each from scratch, embedding cache included
        for label, sec, ens, folder in (("default", second, False, "index"), ("e5_only", None, False, "index-e5only"),
                                        ("ensemble", second, True, "index-ensemble")):
            rep, secs = timed_build(corpus, base / folder, e, sec, ensemble=ens)
            row[f"build_{label}_passages_per_s"] = round(rep.passages / secs, 2)
            row[f"build_{label}_seconds"] = round(secs, 2)
            row[f"build_{label}_ratio_to_bare"] = round(rep.passages / secs / row["bare_encode_passages_per_s"], 2)
            row[f"build_{label}_ratio_to_bare_with_sentences"] = round(
                rep.passages / secs / row["bare_encode_with_sentences_passages_per_s"], 2)
        if "bare_encode_both_models_passages_per_s" in row:  # the ensemble against both models' bare encode
            row["build_ensemble_ratio_to_bare_both"] = round(
                row["build_ensemble_passages_per_s"] / row["bare_encode_both_models_passages_per_s"], 2)
        t0 = time.perf_counter()
        rep2, _ = timed_build(corpus, base / "index", e, second, fresh=False)
        row["rebuild_unchanged_seconds"] = round(time.perf_counter() - t0, 2)
        row["warm"] = warm_latency(base / "index", e, qs, reps)
        row["warm_ensemble"] = warm_latency(base / "index-ensemble", e, qs, reps)
        row["index_bytes"] = du(live_version(base / "index"))
        row["cache_bytes"] = du(base / "index" / "cache")
        row["cold_start"] = cold_start(base / "index", backend, qs[0])
        row["build_process"] = build_peak_memory(corpus, base / "index-mem", backend)
        res["backends"][backend] = row
        del e
        gc.collect()
    b = res["backends"]
    if "torch" in b and "onnx-int8" in b:
        res["int8_over_fp32_bare_encode"] = round(b["onnx-int8"]["bare_encode_passages_per_s"] / b["torch"]["bare_encode_passages_per_s"], 2)
        res["int8_over_fp32_query_embedding_p50"] = round(
            b["torch"]["warm"]["bare_query_embedding"]["p50_ms"] / b["onnx-int8"]["warm"]["bare_query_embedding"]["p50_ms"], 2)
    return res


def bench_1k(backend: str, qs: list[str], reps: int, n: int = 1000) -> dict:
    from qa.embed.model import Embedder
    from qa.index.build import default_second_model
    from qa.index.folder import live_version

    base = OUT / "syn1k"
    corpus = base / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    synth.write_bulletins(corpus, n, seed=0)
    e = Embedder(backend=backend, settings=Settings.from_env())
    _ = e.dim
    second = default_second_model(Settings.from_env())
    if second is not None:  # loaded outside the timings (the one-thread instance builds use)
        second.word_table()
        second.embed_queries(["x"])
    res: dict = {"bulletins": n, "backend": backend}
    chunks = chunks_of(corpus)
    bare = bare_encode(e, [c.embed_text for c in chunks])  # the same passages, the same run
    bare_all = bare_encode_all(e, chunks)  # and their sentences, as the build encodes them
    rep, secs = timed_build(corpus, base / "index", e, second)
    res["first_build"] = {"passages": rep.passages, "seconds": round(secs, 1),
                          "passages_per_s": round(rep.passages / secs, 2), "embedded": rep.embedded_passages,
                          "bare_encode_passages_per_s": round(bare, 2),
                          "ratio_to_bare": round(rep.passages / secs / bare, 2),
                          "bare_encode_with_sentences_passages_per_s": round(bare_all, 2),
                          "ratio_to_bare_with_sentences": round(rep.passages / secs / bare_all, 2)}
    synth.write_bulletins(corpus, 1, seed=0, start=n)  # one new bulletin
    rep, secs = timed_build(corpus, base / "index", e, second, fresh=False)
    res["one_new_bulletin"] = {"seconds": round(secs, 2), "embedded_passages": rep.embedded_passages,
                               "embedded_files": rep.embedded_files, "passages": rep.passages}
    res["warm"] = warm_latency(base / "index", e, qs, reps)
    res["index_bytes"] = du(live_version(base / "index"))
    res["cache_bytes"] = du(base / "index" / "cache")
    return res


# ----------------------------------------------------------------------------- 100k / 1M synthetic

SIZES = {"100k": 100_000, "1m": 1_000_000}


def real_sentence_vectors() -> dict[str, np.ndarray]:
    """e5 (query-side 'passage: ' sentence vectors) and second-model vectors of the seed sentences."""
    path = OUT / "real_sentence_vectors.npz"
    if path.is_file():
        d = np.load(path)
        return {"e5": d["e5"], "use": d["use"]}
    from qa.embed.model import Embedder, UseEmbedder

    _, sents = synth.seed_material()
    settings = Settings.from_env()
    e5 = Embedder(backend=settings.backend or "torch", settings=settings).embed_passages(sents)
    use = UseEmbedder(cache=settings.cache_dir).embed_passages(sents)
    np.savez(path, e5=e5, use=use)
    return {"e5": e5, "use": use}


def vectors(kind: str, real: np.ndarray, n: int, seed: int) -> np.ndarray:
    path = OUT / f"vec-{kind}-{n}-s{seed}.npy"
    if path.is_file():
        return np.load(path, mmap_mode="r")
    v = synth.synth_vectors(real, n, seed=seed)
    np.save(path, v)
    return np.load(path, mmap_mode="r")


def bench_vectors(kind: str, real: np.ndarray, n: int, nq: int = 200) -> dict:
    """Exact vs auto-chosen index: build time, single-query p50/p95, recall@10 vs exact."""
    import faiss

    from qa.index import vectors as vectorindex

    x = np.ascontiguousarray(vectors(kind, real, n, seed=1))
    q = synth.synth_vectors(real, nq, seed=10_000 + n)
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(q, 10)
    res: dict = {"n": n, "dim": int(x.shape[1])}
    lat = []
    for i in range(min(nq, 50)):
        t0 = time.perf_counter()
        vectorindex.nearest(exact, None, q[i], 50)
        lat.append(time.perf_counter() - t0)
    res["exact"] = ms(lat)
    if kind == "use":  # the old path: numpy dot over every vector + argsort
        lat = []
        for i in range(10):
            t0 = time.perf_counter()
            s = x @ q[i]
            np.argsort(-s, kind="stable")[:50]
            lat.append(time.perf_counter() - t0)
        res["numpy_dot_argsort"] = ms(lat)
    del exact
    gc.collect()
    t0 = time.perf_counter()
    idx = vectorindex.build_vector_index(x)
    res["auto_index"] = vectorindex.describe(idx)
    res["auto_build_seconds"] = round(time.perf_counter() - t0, 1)
    path = OUT / f"index-{kind}-{n}.faiss"
    faiss.write_index(idx, str(path))
    res["auto_index_bytes"] = path.stat().st_size
    path.unlink()
    lat, ids = [], []
    for i in range(nq):
        t0 = time.perf_counter()
        hits = vectorindex.nearest(idx, None, q[i], 50)
        lat.append(time.perf_counter() - t0)
        ids.append([h[0] for h in hits[:10]])
    res["auto"] = ms(lat)
    res["recall@10_vs_exact"] = round(vectorindex.recall_at_k(np.array(ids), truth, 10), 4)
    if hasattr(idx, "hnsw"):
        sweep = {}
        for ef in (32, 64, 128, 256):
            idx.hnsw.efSearch = ef
            _, a = idx.search(q, 10)
            lat = []
            for i in range(100):
                t0 = time.perf_counter()
                idx.search(q[i:i + 1], 50)
                lat.append(time.perf_counter() - t0)
            sweep[ef] = {"recall@10": round(vectorindex.recall_at_k(a, truth, 10), 4), **ms(lat)}
        res["efSearch_sweep"] = sweep
    del idx, x
    gc.collect()
    return res


def bench_lexical(n: int, qs: list[str], reps: int = 3) -> dict:
    import bm25s

    from collections import Counter

    from qa.index.bm25 import BM25Index
    from qa.text.tokens import tokenize
    from qa.index.base import positive_top

    texts = passages_of(synth.SEEDS)
    seed_tokens = [tokenize(t) for t in texts]
    t0 = time.perf_counter()
    token_lists = synth.synth_tokens(seed_tokens, n, seed=2)
    gen_s = time.perf_counter() - t0
    vocab: dict[str, int] = {}
    ids = [np.array([vocab.setdefault(t, len(vocab)) for t in doc], dtype=np.int32) for doc in token_lists]
    del token_lists
    gc.collect()
    t0 = time.perf_counter()
    r = bm25s.BM25()
    r.index((ids, vocab), show_progress=False)
    build_s = time.perf_counter() - t0
    del ids
    gc.collect()
    bm25 = BM25Index(r)
    qtoks = [Counter(tokenize(q)) for q in qs]  # what StoredIndex.lexical does with a query's weights
    for t in qtoks:
        positive_top(bm25.weighted_scores(t, n), 50, None)
    lat = []
    for _ in range(reps):
        for t in qtoks:
            t0 = time.perf_counter()
            positive_top(bm25.weighted_scores(t, n), 50, None)
            lat.append(time.perf_counter() - t0)
    mean_len = 80
    return {"n": n, "vocab": len(vocab), "mean_tokens": mean_len, "generate_s": round(gen_s, 1),
            "build_s": round(build_s, 1), "lexical": ms(lat)}


# ----------------------------------------------------------------------------- PostgreSQL + pgvector


class PgServer:
    """A throw-away PostgreSQL 16 + pgvector (the PyPI package pgserver) in a tmp folder."""

    def __enter__(self):
        import tempfile

        import pgserver

        self.base = Path(tempfile.mkdtemp(prefix="bqa-bench-pg-"))
        self.base.chmod(0o755)  # pgserver runs PostgreSQL as its own user when run as root
        self.srv = pgserver.get_server(self.base / "data", cleanup_mode="stop")
        return self

    def new_db(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.srv.get_uri(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return self.srv.get_uri(name)

    def __exit__(self, *exc):
        self.srv.cleanup()
        shutil.rmtree(self.base, ignore_errors=True)


def timed_build_db(corpus: Path, url: str, embedder, second, rebuild: bool = True):
    from qa.index.postgres_build import build_index

    t0 = time.perf_counter()
    rep = build_index(corpus, url, embedder, second=second, rebuild=rebuild, wait=None, settings=Settings.from_env())
    return rep, time.perf_counter() - t0


def bench_db(sizes: list[str], qs: list[str], reps: int, backend: str) -> dict:
    """The same corpus in a folder and in PostgreSQL: build time (from scratch, the embedding
    cache of each store cleared, so both embed everything) and warm hybrid query latency,
    the two timed in the same run.  Seed, and the 1k synthetic bulletins when asked."""
    from qa.embed.model import Embedder
    from qa.index.build import default_second_model

    e = Embedder(backend=backend, settings=Settings.from_env())
    _ = e.dim
    second = default_second_model(Settings.from_env())
    if second is not None:
        second.word_table()
        second.embed_queries(["x"])
    out: dict = {"backend": backend}
    with PgServer() as pg:
        for size in [s for s in sizes if s in ("seed", "1k")]:
            if size == "seed":
                corpus = synth.SEEDS
            else:
                corpus = OUT / "syn1k" / "corpus"
                if not corpus.is_dir() or len(list(corpus.glob("*.txt"))) < 1000:
                    shutil.rmtree(corpus, ignore_errors=True)
                    synth.write_bulletins(corpus, 1000, seed=0)
            folder = OUT / f"db-compare-{size}" / "index"
            rep_f, secs_f = timed_build(corpus, folder, e, second)
            url = pg.new_db(f"bench_{size}")
            rep_d, secs_d = timed_build_db(corpus, url, e, second)
            row = {"passages": rep_f.passages, "build_folder_seconds": round(secs_f, 2),
                   "build_db_seconds": round(secs_d, 2)}
            wf = warm_latency(folder, e, qs, reps)
            wd = warm_latency(url, e, qs, reps)
            row["warm_folder"], row["warm_db"] = wf, wd
            row["ratio_p50_hybrid_db_to_folder"] = round(wd["hybrid_total"]["p50_ms"] / wf["hybrid_total"]["p50_ms"], 2)
            out[size] = row
    return out


def bench_pg_vectors(real: np.ndarray, n: int, nq: int = 200) -> dict:
    """pgvector HNSW (m 16, ef_construction 64: what qa/index/postgres.py creates) over ``n`` synthetic
    e5 vectors: build seconds, recall@10 against exact (FAISS flat) and single-query p50 at
    several hnsw.ef_search."""
    import faiss
    import psycopg
    from pgvector.psycopg import register_vector

    from qa.index import vectors as vectorindex

    x = np.ascontiguousarray(vectors("e5", real, n, seed=1))
    q = synth.synth_vectors(real, nq, seed=10_000 + n)
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(q, 10)
    del exact
    res: dict = {"n": n, "dim": int(x.shape[1])}
    with PgServer() as pg:
        url = pg.new_db("vectors")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            register_vector(conn)
            conn.execute(f"CREATE TABLE v (id integer PRIMARY KEY, e vector({x.shape[1]}))")
            t0 = time.perf_counter()
            with conn.cursor() as cur, cur.copy("COPY v (id, e) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "vector"])
                for i in range(n):
                    copy.write_row((i, x[i]))
            res["load_seconds"] = round(time.perf_counter() - t0, 1)
            conn.execute("SET maintenance_work_mem = '512MB'")
            t0 = time.perf_counter()
            conn.execute("CREATE INDEX ON v USING hnsw (e vector_cosine_ops)")
            res["hnsw_build_seconds"] = round(time.perf_counter() - t0, 1)
            res["table_and_index_mb"] = round(conn.execute("SELECT pg_total_relation_size('v')").fetchone()[0] / 1e6, 1)
            sweep = {}
            for ef in (40, 100, 256):
                conn.execute(f"SET hnsw.ef_search = {ef}")
                ids, lat = [], []
                for i in range(nq):
                    t0 = time.perf_counter()
                    rows = conn.execute("SELECT id FROM v ORDER BY e <=> %s LIMIT 50", (q[i],)).fetchall()
                    lat.append(time.perf_counter() - t0)
                    ids.append([r[0] for r in rows[:10]])
                sweep[ef] = {"recall@10": round(vectorindex.recall_at_k(np.array(ids), truth, 10), 4), **ms(lat)}
            res["ef_search_sweep"] = sweep
    return res


# ----------------------------------------------------------------------------- report

def table(res: dict) -> str:
    lines = []
    m = res["machine"]
    lines.append(f"Machine: {m['cpu']}, {m['cores']} cores (torch threads {m['torch_threads']}, faiss threads "
                 f"{m['faiss_threads']}), load average at start {m['loadavg_at_start']:.1f}")
    seed = res.get("seed")
    if seed:
        lines += ["", f"### Seed corpus ({seed['passages']} passages)", "",
                  "| backend | bare encode p/s | bare encode p/s, with the sentences | build p/s (ratio to bare; to bare with the sentences) | build without second model | ensemble build | warm hybrid p50 / p95 ms | bare query emb p50 ms | hybrid/bare | cold start s | query RSS MB | build RSS MB | index MB |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for b, r in seed["backends"].items():
            w = r["warm"]
            lines.append(f"| {b} | {r['bare_encode_passages_per_s']} | {r.get('bare_encode_with_sentences_passages_per_s', '')} | "
                         f"{r['build_default_passages_per_s']} ({r['build_default_ratio_to_bare']}x; "
                         f"{r.get('build_default_ratio_to_bare_with_sentences', '')}x) | "
                         f"{r['build_e5_only_passages_per_s']} ({r['build_e5_only_ratio_to_bare']}x) | "
                         f"{r['build_ensemble_passages_per_s']} ({r['build_ensemble_ratio_to_bare']}x; "
                         f"{r.get('build_ensemble_ratio_to_bare_both', '')}x of both models' bare encode) | "
                         f"{w['hybrid_total']['p50_ms']:.1f} / {w['hybrid_total']['p95_ms']:.1f} | {w['bare_query_embedding']['p50_ms']:.1f} | "
                         f"{w['ratio_p50_total_to_bare_embedding']}x | {r['cold_start'].get('seconds')} | {r['cold_start'].get('peak_rss_mb')} | "
                         f"{r['build_process'].get('peak_rss_mb')} | {r['index_bytes'] / 1e6:.2f} |")
        if "int8_over_fp32_bare_encode" in seed:
            lines.append(f"\nint8 / fp32: encode throughput {seed['int8_over_fp32_bare_encode']}x, "
                         f"query embedding {seed['int8_over_fp32_query_embedding_p50']}x faster (p50)")
        lines += ["", "Warm query p50 by mode, seed (ms; each query timed in every mode in turn):", "",
                  "| backend | index | e5 query emb | dense | lexical | hybrid | hybrid/dense | hybrid/bare e5 | both query encoders | hybrid/both |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for b, r in seed["backends"].items():
            for label, w in (("default", r["warm"]), ("ensemble", r.get("warm_ensemble"))):
                if not w:
                    continue
                both = w.get("both_query_encoders")
                lines.append(f"| {b} | {label} | {w['bare_query_embedding']['p50_ms']:.2f} | {w['dense_total']['p50_ms']:.2f} | "
                             f"{w['lexical_total']['p50_ms']:.2f} | {w['hybrid_total']['p50_ms']:.2f} | {w['ratio_p50_hybrid_to_dense']}x | "
                             f"{w['ratio_p50_total_to_bare_embedding']}x | {both['p50_ms'] if both else '':} | "
                             f"{str(w['ratio_p50_total_to_both_encoders']) + 'x' if both else ''} |")
        for b, r in seed["backends"].items():
            for label, w in (("default", r["warm"]), ("ensemble", r.get("warm_ensemble"))):
                if not w:
                    continue
                lines += ["", f"Warm hybrid query parts, seed, {b}, {label} index (p50 / p95 ms, per query):", "",
                          "| part | p50 | p95 |", "|---|---|---|"]
                for name, v in w["parts"].items():
                    lines.append(f"| {name} | {v['p50_ms']:.2f} | {v['p95_ms']:.2f} |")
                lines.append(f"| **total** | {w['hybrid_total']['p50_ms']:.2f} | {w['hybrid_total']['p95_ms']:.2f} |")
    k = res.get("1k")
    if k:
        f, o, w = k["first_build"], k["one_new_bulletin"], k["warm"]
        lines += ["", f"### 1k synthetic bulletins ({f['passages']} passages, {k['backend']})", "",
                  "| first build s | build p/s | bare encode p/s | build/bare | bare encode p/s, with the sentences | build/that | +1 bulletin: embedded passages | +1 bulletin s | warm hybrid p50 / p95 ms | hybrid/bare | index MB | cache MB |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|",
                  f"| {f['seconds']} | {f['passages_per_s']} | {f.get('bare_encode_passages_per_s', '')} | {f.get('ratio_to_bare', '')}x | "
                  f"{f.get('bare_encode_with_sentences_passages_per_s', '')} | {f.get('ratio_to_bare_with_sentences', '')}x | "
                  f"{o['embedded_passages']} (of {o['passages']}) | {o['seconds']} | "
                  f"{w['hybrid_total']['p50_ms']:.1f} / {w['hybrid_total']['p95_ms']:.1f} | {w['ratio_p50_total_to_bare_embedding']}x | "
                  f"{k['index_bytes'] / 1e6:.1f} | {k['cache_bytes'] / 1e6:.1f} |"]
    db = res.get("db")
    if db:
        lines += ["", f"### PostgreSQL + pgvector against the folder ({db['backend']}, the same run)", "",
                  "| corpus | passages | build folder s | build db s | warm hybrid p50 folder ms | warm hybrid p50 db ms | db/folder | dense p50 db ms | lexical p50 db ms |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for size in ("seed", "1k"):
            r = db.get(size)
            if r:
                lines.append(f"| {size} | {r['passages']} | {r['build_folder_seconds']} | {r['build_db_seconds']} | "
                             f"{r['warm_folder']['hybrid_total']['p50_ms']:.1f} | {r['warm_db']['hybrid_total']['p50_ms']:.1f} | "
                             f"{r['ratio_p50_hybrid_db_to_folder']}x | {r['warm_db']['dense_total']['p50_ms']:.1f} | "
                             f"{r['warm_db']['lexical_total']['p50_ms']:.1f} |")
        v = db.get("vectors")
        if v:
            lines += ["", f"pgvector HNSW over {v['n']:,} synthetic e5 vectors: load {v['load_seconds']} s, index build "
                      f"{v['hnsw_build_seconds']} s, {v['table_and_index_mb']} MB; " + ", ".join(
                          f"ef_search={ef}: recall@10 {s['recall@10']}, p50 {s['p50_ms']:.2f} ms"
                          for ef, s in v["ef_search_sweep"].items())]
    big = {s: res[s] for s in ("100k", "1m") if s in res}
    if big:
        lines += ["", "### Synthetic vectors and tokens (search side)", "",
                  "| size | vectors | exact p50 / p95 ms | auto index | build s | auto p50 / p95 ms | recall@10 vs exact | numpy dot+argsort p50 ms | index MB |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for s, r in big.items():
            for kind in ("e5", "use"):
                v = r.get(kind)
                if not v:
                    continue
                lines.append(f"| {s} | {kind} {v['dim']}-d | {v['exact']['p50_ms']:.2f} / {v['exact']['p95_ms']:.2f} | {v['auto_index']} | "
                             f"{v['auto_build_seconds']} | {v['auto']['p50_ms']:.2f} / {v['auto']['p95_ms']:.2f} | {v['recall@10_vs_exact']} | "
                             f"{v.get('numpy_dot_argsort', {}).get('p50_ms', '')} | {v['auto_index_bytes'] / 1e6:.0f} |")
        lines += ["", "| size | lexical p50 / p95 ms (bm25s, Retriever.lexical) | vocab | bm25s build s |", "|---|---|---|---|"]
        for s, r in big.items():
            lx = r.get("lexical")
            if lx:
                lines.append(f"| {s} | {lx['lexical']['p50_ms']:.1f} / {lx['lexical']['p95_ms']:.1f} | {lx['vocab']} | {lx['build_s']} |")
        for s, r in big.items():
            sw = r.get("e5", {}).get("efSearch_sweep")
            if sw:
                lines += ["", f"efSearch sweep, e5 {s}: " + ", ".join(
                    f"ef={ef}: recall {v['recall@10']}, p50 {v['p50_ms']:.2f} ms" for ef, v in sw.items())]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="seed,1k,100k,1m")
    ap.add_argument("--backends", default="torch,onnx-int8", help="backends for the seed figures")
    ap.add_argument("--backend-1k", default=None, help="backend for the 1k build (default: BULLETIN_QA_BACKEND or the last of --backends)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of the query set for warm latency")
    ap.add_argument("--json", default=str(OUT / "results.json"))
    ap.add_argument("--db", default="", help="also through PostgreSQL + pgvector (needs the [postgres] and test extras: "
                                             "pgserver): any of seed,1k,100k, e.g. --db seed,1k,100k")
    ap.add_argument("--build-cost", action="store_true",
                    help="build CPU-seconds against the bare int8 encode, >= 200 articles (benchmarks/build_cost.py)")
    ap.add_argument("--archive", type=int, default=0, help="N: the archive benchmark at N passages (benchmarks/archive.py)")
    ap.add_argument("--vectors", choices=["cheap", "real"], default="cheap",
                    help="archive: stand-in vectors (the encode measured on a sample) or the real encode")
    ap.add_argument("--bare-sample", type=int, default=300, help="archive, cheap vectors: passages of the bare encode")
    ap.add_argument("--archive-stores", default="folder,postgres")
    ap.add_argument("--same-names", action="store_true",
                    help="archive: synthetic bulletins keep the seeds' names (a tiny vocabulary: every term common)")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    qs = queries()
    res: dict = {"command": "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                 "machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}

    def save():
        Path(args.json).write_text(json.dumps(res, ensure_ascii=False, indent=1))

    t_all = time.perf_counter()
    if args.build_cost:
        import build_cost

        res["build_cost"] = build_cost.bench_build_cost()
        save()
        print(build_cost.table(res["build_cost"]), flush=True)
        sizes = []
    if args.archive:
        import archive

        res["archive"] = archive.bench_archive(args.archive, args.vectors, args.reps, args.bare_sample,
                                               args.archive_stores.split(","), not args.same_names)
        save()
        print(archive.table(res["archive"]), flush=True)
        sizes = []
    if "seed" in sizes:
        res["seed"] = bench_seed(backends, qs, args.reps)
        save()
        print(table(res), flush=True)
    if "1k" in sizes:
        res["1k"] = bench_1k(args.backend_1k or os.environ.get("BULLETIN_QA_BACKEND") or backends[-1], qs, args.reps)
        save()
    big = [s for s in sizes if s in SIZES]
    if big:
        real = real_sentence_vectors()
        for s in big:
            n = SIZES[s]
            res[s] = {}
            for kind in ("e5", "use"):
                res[s][kind] = bench_vectors(kind, real[kind], n)
                save()
                print(f"{s} {kind}: {json.dumps(res[s][kind])}", flush=True)
            res[s]["lexical"] = bench_lexical(n, qs)
            save()
            print(f"{s} lexical: {json.dumps(res[s]['lexical'])}", flush=True)
    db_sizes = [s.strip().lower() for s in args.db.split(",") if s.strip()]
    if db_sizes:
        res["db"] = bench_db(db_sizes, qs, args.reps, args.backend_1k or os.environ.get("BULLETIN_QA_BACKEND")
                             or backends[-1])
        save()
        if "100k" in db_sizes:
            res["db"]["vectors"] = bench_pg_vectors(real_sentence_vectors()["e5"], SIZES["100k"])
            save()
        print(table(res), flush=True)
    res["seconds"] = round(time.perf_counter() - t_all, 1)
    res["peak_rss_mb_this_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    save()
    print()
    print(table(res))
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
