"""The speed features, functionally (no timings): the int8 backend is selectable and agrees
with fp32, the persistent embedding cache serves what was embedded before, the ANN index is
chosen past the threshold and recorded, and HNSW recall against exact search."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.index import vectors as vectorindex
from qa.embed.cache import EmbeddingCache
from qa.embed.model import Embedder
from qa.index.folder import StoredIndex, live_version
from tests.conftest import build_index

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import synth  # noqa: E402


def manifest(index: Path) -> dict:
    return json.loads((live_version(index) / "manifest.json").read_text())


# ----------------------------------------------------------------------------- backend

@pytest.mark.slow
def test_int8_backend_is_selectable_and_agrees_with_fp32(settings):
    from qa.app.api import Index

    embedder = Index.embedder_for(settings, backend="torch")  # the process's one fp32 copy (test_core's too)
    assert Embedder(settings=settings).backend == "onnx-int8"  # the default for the bundled model on a CPU
    int8 = Embedder(settings=settings.replace(backend="onnx-int8"))
    assert int8.backend == "onnx-int8" and "+onnx-int8@" in int8.model_id
    assert int8.model_id != embedder.model_id  # an index never mixes vectors of two backends
    texts = synth.seed_material()[1][:12]
    a, b = embedder.embed_passages(texts), int8.embed_passages(texts)
    assert b.shape == a.shape == (12, 384) and b.dtype == np.float32
    assert np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-4)
    assert (a * b).sum(1).min() > 0.98
    q = int8.embed_queries(["温州 社工站"])
    assert q.shape == (1, 384)
    # the index's model id brings the backend back, whatever the settings say
    assert Embedder(int8.model_id.split("@")[0], settings=settings.replace(backend="torch")).backend == "onnx-int8"
    assert Embedder(backend="torch", settings=settings).model_id == embedder.model_id


def test_unknown_backend_is_refused(settings):
    with pytest.raises(ValueError, match="backend"):
        Embedder(backend="tpu-int2", settings=settings).st


# ----------------------------------------------------------------------------- cache

@pytest.mark.slow
def test_cache_embeds_only_new_text_and_survives_rebuild(tmp_path, embedder):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    synth.write_bulletins(corpus, 12, seed=7)
    first = build_index(corpus, index, embedder, ensemble=True)  # the second model's vectors cached too
    assert first.embedded_passages == first.passages > 12

    synth.write_bulletins(corpus, 1, seed=7, start=12)  # one new bulletin
    added = build_index(corpus, index, embedder)
    new_rows = [p for p in StoredIndex.load(index).passages if p["source"] == "syn_00012.txt"]
    assert new_rows and added.embedded_passages == len(new_rows)
    assert added.embedded_files == ["syn_00012.txt"]

    before = StoredIndex.load(index)
    rebuilt = build_index(corpus, index, embedder, rebuild=True)  # the live version is ignored...
    assert rebuilt.passages == added.passages
    assert rebuilt.embedded_passages == 0  # ...but the cache still has every passage
    after = StoredIndex.load(index)
    assert np.array_equal(np.asarray(after.vectors), np.asarray(before.vectors))
    # the ensemble setting is kept by later builds, and the second model's vectors come from the cache too
    assert before.use_vectors is not None and after.use_vectors is not None
    assert np.array_equal(np.asarray(after.use_vectors), np.asarray(before.use_vectors))
    # a sentence shared by overlapping passages is stored once: equal up to batch rounding
    assert np.allclose(np.asarray(after.sent_vectors), np.asarray(before.sent_vectors), atol=1e-4)
    cache = EmbeddingCache(index)
    assert cache.count() >= added.passages
    cache.close()

    # a chunking change: the passages whose text is unchanged are served from the cache
    changed = build_index(corpus, index, embedder, chunk_size=200, chunk_overlap=40)
    assert changed.full_rebuild and 0 <= changed.embedded_passages < changed.passages


# ----------------------------------------------------------------------------- vector index

def test_exact_index_below_threshold_hnsw_above(seed_copy, embedder, monkeypatch):
    corpus, index = seed_copy
    assert manifest(index)["faiss"] == "IndexFlatIP"
    monkeypatch.setenv("BULLETIN_QA_ANN_THRESHOLD", "10")
    report = build_index(corpus, index, embedder, rebuild=True, ensemble=True)
    assert report.embedded_passages == 0  # e5 vectors from the cache: only the index type changed
    m = manifest(index)
    assert m["faiss"].startswith("IndexHNSWFlat(M=32")
    store = StoredIndex.load(index)
    import faiss

    assert isinstance(store.faiss_index, faiss.IndexHNSWFlat) and store.faiss_index.ntotal == report.passages
    assert m.get("use_faiss", "").startswith("IndexHNSWFlat") and store.use_index.ntotal == report.passages
    from qa import search

    hits = search("酒泉 持证社会工作者 800名", k=3, index=index)
    assert any("800" in h.text for h in hits)
    # a source filter searches the graph with an ID selector (a file with at least the threshold's
    # passages) or scores a small file's rows exactly; either way only that file's passages return
    counts = {}
    for p in store.passages:
        counts[p["source"]] = counts.get(p["source"], 0) + 1
    big = max(counts, key=counts.get)
    small = min(counts, key=counts.get)
    assert counts[big] >= 10 > counts[small] or counts[small] >= 10
    for name in (big, small):
        hits = search("社会工作 人才 队伍建设", k=5, index=index, sources=[name])
        assert hits and all(h.source == name for h in hits)
        dense = search("社会工作 人才 队伍建设", k=5, index=index, sources=[name], mode="dense")
        assert len(dense) == min(5, counts[name]) and all(h.source == name for h in dense)


def test_hnsw_recall_against_exact_on_a_few_thousand_vectors():
    import faiss

    rng = np.random.default_rng(3)
    real = rng.standard_normal((300, 64)) @ rng.standard_normal((64, 384))  # low-rank, like real embeddings
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    x = synth.synth_vectors(real, 4000, seed=1)
    q = synth.synth_vectors(real, 100, seed=2)
    ann = vectorindex.build_vector_index(x, threshold=1000)
    assert isinstance(ann, faiss.IndexHNSWFlat)
    assert vectorindex.describe(ann).startswith("IndexHNSWFlat(M=32")
    small = vectorindex.build_vector_index(x[:999], threshold=1000)
    assert isinstance(small, faiss.IndexFlatIP)
    exact = faiss.IndexFlatIP(384)
    exact.add(x)
    _, truth = exact.search(q, 10)
    _, got = vectorindex.search(ann, q, 10)
    assert vectorindex.recall_at_k(got, truth, 10) >= 0.97
