"""The archive benchmark: an archive-sized corpus of real-sentence bulletins in both stores.

    python benchmarks/run.py --archive 100000                 # vectors "cheap": measured here at 10^5
    python benchmarks/run.py --archive 100000 --vectors real  # the real encode too: ~5.5 CPU-hours at 10^5

The corpus: the five seed bulletins plus synthetic bulletins made of real sentences
(benchmarks/synth.py: the seeds' headlines and sentences, numbers varied, and with --vary-names
their place, organisation and person names swapped for others of jieba's dictionary), as many as it
takes to reach N passages.  Built into a folder and into PostgreSQL (a throw-away pgserver), each
build in a process of its own: its CPU-seconds (its own and its children's; for PostgreSQL the
server's processes too), peak memory (VmHWM) and the index's size.  Then a query process per
store: warm hybrid p50/p95 of the dev questions (run.warm_latency: the same timing as every other
table) and its peak memory.

``--vectors real`` encodes every passage and sentence with the index's model, and measures the
bare encode of the same passages (``Embedder.embed_passages``) in the same run.  ``--vectors
cheap`` replaces the model's encode by deterministic stand-in vectors (a real e5 / second-model
vector of a seed passage chosen by the text's hash, plus noise; normalised): everything else of
the build runs as it does, and the query side embeds with the real model.  Vector search costs
the same whatever the values, so the latency figures hold; the build figures are then the build
*without* the encode, and the encode is measured on a sample of the same passages and scaled to N
(said so in the table).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import synth  # noqa: E402
from qa.settings import Settings  # noqa: E402 - a benchmark is an edge: it reads the environment

OUT = ROOT / "benchmarks" / "out"


# ----------------------------------------------------------------------------- stand-in vectors

class CheapVectors:
    """An embedder whose ``embed_passages`` costs nothing: each text's vector is a real vector of
    a seed passage (``basis``) chosen by the text's hash, plus Gaussian noise, normalised, the
    same for the same text.  Everything else (model id, prefixes, dim, the query side) is the
    real model's, which it wraps."""

    def __init__(self, real, basis: np.ndarray, noise: float = 0.35):
        self.real, self.basis, self.noise = real, np.asarray(basis, dtype=np.float32), noise

    def __getattr__(self, name):
        return getattr(self.real, name)

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])

    def with_threads(self, n: int) -> "CheapVectors":
        return CheapVectors(self.real.with_threads(n), self.basis, self.noise)

    def embed_passages(self, texts, show_progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little")
            rng = np.random.default_rng(seed)
            v = self.basis[seed % len(self.basis)] + rng.standard_normal(self.dim).astype(np.float32) * (
                self.noise / math.sqrt(self.dim))
            out[i] = v / np.linalg.norm(v)
        return out


def models(settings: Settings, vectors: str):
    """(e5 embedder, second model or None) as the build uses them; ``cheap``: wrapped."""
    from qa.app.api import Index
    from qa.index.build import default_second_model

    e5 = Index.embedder_for(settings)
    second = default_second_model(settings)
    if vectors != "cheap":
        return e5, second
    texts = [c.embed_text for c in chunks_of(synth.SEEDS)]
    e5 = CheapVectors(e5, e5.embed_passages(texts))
    if second is not None:
        second = CheapVectors(second, second.embed_passages(texts))
    return e5, second


def chunks_of(corpus: Path) -> list:
    from qa.ingest.chunk import chunk_document
    from qa.ingest.read import list_corpus, read_document

    return [c for p in list_corpus(corpus) for c in chunk_document(read_document(p, p.relative_to(corpus).as_posix()))]


# ----------------------------------------------------------------------------- the corpus

def make_corpus(n: int, vary_names: bool) -> tuple[Path, int]:
    """The seeds plus enough synthetic bulletins for ``n`` passages (kept in benchmarks/out for
    the next run): (folder, bulletins written)."""
    tag = f"archive-{n}" + ("-names" if vary_names else "")
    corpus = OUT / tag / "corpus"
    done = corpus.parent / "corpus.done"
    if done.is_file():
        return corpus, int(done.read_text())
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(synth.SEEDS, corpus)
    seed_passages = len(chunks_of(synth.SEEDS))
    sample = OUT / tag / "sample"
    shutil.rmtree(sample, ignore_errors=True)
    synth.write_bulletins(sample, 200, seed=1, vary_names=vary_names)
    per = len(chunks_of(sample)) / 200
    shutil.rmtree(sample)
    count = max(0, math.ceil((n - seed_passages) / per))
    synth.write_bulletins(corpus, count, seed=1, vary_names=vary_names)
    done.write_text(str(count))
    return corpus, count


# ----------------------------------------------------------------------------- one build, one query process

def cpu_seconds() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def peak_rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def do_build(corpus: str, index: str, vectors: str) -> dict:
    """In its own process: the models loaded (not counted), then the build from scratch."""
    from qa.index import stores

    settings = Settings.from_env()
    e5, second = models(settings, vectors)
    _ = e5.dim
    if second is not None:
        second.word_table()
        second.embed_queries(["x"])
    c0, t0 = cpu_seconds(), time.perf_counter()
    rep = stores.build_index(corpus, index, e5, second=second, rebuild=True, wait=None, settings=settings)
    return {"passages": rep.passages, "cpu_s": round(cpu_seconds() - c0, 1), "wall_s": round(time.perf_counter() - t0, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def do_bare(corpus: str, sample: int) -> dict:
    """CPU-seconds of the bare encode (the model's embed_passages) of the passages of ``sample``
    passages' worth of the corpus's files, drawn at random (0: every file), per passage."""
    from qa.app.api import Index
    from qa.ingest.read import list_corpus

    files = list_corpus(Path(corpus))
    if sample:
        rng = np.random.default_rng(0)
        files = [files[i] for i in rng.permutation(len(files))]
    texts: list[str] = []
    for f in files:
        texts += [c.embed_text for c in chunks_of_file(Path(corpus), f)]
        if sample and len(texts) >= sample:
            break
    e5 = Index.embedder_for(Settings.from_env())
    e5.embed_passages(texts[:8])
    c0 = time.process_time()
    e5.embed_passages(texts)
    cpu = time.process_time() - c0
    return {"passages_encoded": len(texts), "cpu_s": round(cpu, 1), "cpu_s_per_passage": cpu / len(texts)}


def chunks_of_file(corpus: Path, p: Path) -> list:
    from qa.ingest.chunk import chunk_document
    from qa.ingest.read import read_document

    return chunk_document(read_document(p, p.relative_to(corpus).as_posix()))


def do_query(index: str, reps: int) -> dict:
    import run
    from qa.app.api import Index

    e5 = Index.embedder_for(Settings.from_env())
    w = run.warm_latency(index, e5, run.queries(), reps)
    return {"hybrid": w["hybrid_total"], "dense": w["dense_total"], "lexical": w["lexical_total"],
            "parts": w["parts"], "peak_rss_mb": round(peak_rss_mb(), 1)}


def start(*args: str) -> subprocess.Popen:
    """This file run as a process (so its memory and CPU are its own)."""
    return subprocess.Popen([sys.executable, str(Path(__file__)), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=str(ROOT))


def result(proc: subprocess.Popen) -> dict:
    """Its result: the last line it printed, JSON."""
    out, err = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"{proc.args[2:]} failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def child(*args: str) -> dict:
    return result(start(*args))


# ----------------------------------------------------------------------------- sizes, server CPU

def server_cpu(pid: int) -> float:
    """CPU-seconds of a PostgreSQL server: its postmaster and every process under it, living or
    reaped (children's times)."""
    import psutil

    p = psutil.Process(pid)
    total = 0.0
    for q in [p, *p.children(recursive=True)]:
        try:
            t = q.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


def pg_sizes(url: str) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        version = conn.execute("SELECT version FROM bqa_live").fetchone()[0]
        rows = conn.execute("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c WHERE c.relkind = 'r' "
                            "AND c.relname LIKE %s", (f"bqa\\_{version}\\_%",)).fetchall()
        cache = conn.execute("SELECT pg_total_relation_size('bqa_embeddings')").fetchone()[0]
    return {"tables_mb": {name.split(version + "_")[1]: round(b / 1e6, 1) for name, b in rows},
            "index_mb": round(sum(b for _, b in rows) / 1e6, 1), "cache_mb": round(cache / 1e6, 1)}


def folder_sizes(folder: Path) -> dict:
    import run
    from qa.index.folder import live_version

    return {"index_mb": round(run.du(live_version(folder)) / 1e6, 1), "cache_mb": round(run.du(folder / "cache") / 1e6, 1)}


# ----------------------------------------------------------------------------- the whole benchmark

def save(res: dict) -> None:
    """What was measured so far, kept even if a later step fails or is stopped."""
    (OUT / "archive-partial.json").write_text(json.dumps(res, ensure_ascii=False, indent=1))


def bench_archive(n: int, vectors: str, reps: int, sample: int, stores_: list[str], vary_names: bool) -> dict:
    """The benchmark's one sequence: corpus, bare encode, the two stores' builds (two processes at
    once: on a shared machine that halves the wall time; each one's CPU is its own), their sizes,
    then a query process per store, one after the other."""
    import run

    res: dict = {"target_passages": n, "vectors": vectors, "vary_names": vary_names}
    t0 = time.perf_counter()
    corpus, bulletins = make_corpus(n, vary_names)
    res["corpus"] = {"bulletins": bulletins + 5, "seconds": round(time.perf_counter() - t0, 1)}
    res["bare"] = child("bare", str(corpus), str(0 if vectors == "real" else sample))
    save(res)
    folder = OUT / f"archive-{n}" / "index"
    shutil.rmtree(folder, ignore_errors=True)
    with run.PgServer() as pg:  # the two builds at once (each process's own CPU is counted), then the queries
        url = pg.new_db("archive")
        pid = pg.srv.get_pid()
        s0 = server_cpu(pid)
        builds = {store: start("build", str(corpus), where, vectors)
                  for store, where in (("postgres", url), ("folder", str(folder))) if store in stores_}
        if "postgres" in builds:
            build = result(builds["postgres"])
            build["server_cpu_s"] = round(server_cpu(pid) - s0, 1)
            build["cpu_s_with_server"] = round(build["cpu_s"] + build["server_cpu_s"], 1)
            res["corpus"]["passages"] = build["passages"]
            res["postgres"] = {"build": build} | pg_sizes(url)
            save(res)
        if "folder" in builds:
            res["folder"] = {"build": result(builds["folder"])} | folder_sizes(folder)
            res["corpus"]["passages"] = res["folder"]["build"]["passages"]
            save(res)
        for store, where in (("postgres", url), ("folder", str(folder))):
            if store in builds:
                res[store]["query"] = child("query", where, str(reps))
                save(res)
    per = res["bare"]["cpu_s_per_passage"]  # (the build's passages: the corpus's count)
    res["bare"]["cpu_s_all_passages"] = round(per * res["corpus"]["passages"], 1)
    res["bare"]["measured_on_all"] = vectors == "real"
    return res


def table(res: dict) -> str:
    bare = res["bare"]
    measured = "measured" if bare["measured_on_all"] else (
        f"scaled from {bare['passages_encoded']} passages measured ({bare['cpu_s_per_passage']:.3f} CPU-s each)")
    lines = [f"### Archive: {res['corpus']['passages']:,} passages ({res['corpus']['bulletins']:,} bulletins), "
             f"vectors {res['vectors']}", "",
             f"Bare encode of the same passages: {bare['cpu_s_all_passages']:,} CPU-s ({measured}).", "",
             "| store | build CPU-s | of which the server | build / bare encode | build wall s | build peak MB | "
             "hybrid p50 / p95 ms | dense p50 ms | lexical p50 ms | query process peak MB | index MB | cache MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for store in ("folder", "postgres"):
        r = res.get(store)
        if not r:
            continue
        b, q = r["build"], r["query"]
        cpu = b.get("cpu_s_with_server", b["cpu_s"])
        ratio = (f"{cpu / bare['cpu_s_all_passages']:.2f}x" if res["vectors"] == "real"
                 else f"(encode left out: +{cpu / bare['cpu_s_all_passages']:.2f}x over the encode)")
        lines.append(f"| {store} | {cpu:,} | {b.get('server_cpu_s', '')} | {ratio} | {b['wall_s']:,} | {b['peak_rss_mb']:,} | "
                     f"{q['hybrid']['p50_ms']:.1f} / {q['hybrid']['p95_ms']:.1f} | {q['dense']['p50_ms']:.1f} | "
                     f"{q['lexical']['p50_ms']:.1f} | {q['peak_rss_mb']:,} | {r['index_mb']:,} | {r['cache_mb']:,} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", choices=["build", "bare", "query"])
    ap.add_argument("args", nargs="*")
    a = ap.parse_args(argv)
    if a.step == "build":
        out = do_build(*a.args)
    elif a.step == "bare":
        out = do_bare(a.args[0], int(a.args[1]))
    else:
        out = do_query(a.args[0], int(a.args[1]))
    print(json.dumps(out))
    with open(OUT / "archive-steps.jsonl", "a", encoding="utf-8") as f:  # each step's result, as it comes
        f.write(json.dumps({"step": a.step, "args": a.args, "at": time.strftime("%H:%M:%S"), **out}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
