"""The e5 int8 vectors depend on their text alone (qa/embed/rowquant.py): alone or in any batch,
in a fresh build, an incremental one, or served by the embedding cache, the same bytes."""

from __future__ import annotations

import shutil

import numpy as np

from conftest import SEEDS, build_index


def _vectors_by_key(index) -> tuple[dict, dict]:
    """{passage key: its vector bytes}, {passage key: its sentences' e5 vectors' bytes}."""
    from qa.index.folder import StoredIndex

    s = StoredIndex.load(index)
    vecs = {p["key"]: np.asarray(s.vectors[i]).tobytes() for i, p in enumerate(s.passages)}
    sents = {}
    for i, p in enumerate(s.passages):
        a, c = p["esent"]
        sents[p["key"]] = np.asarray(s.e5_sent_vectors[a:a + c]).tobytes()
    return vecs, sents


def test_int8_vector_is_the_same_alone_and_in_any_batch(embedder):
    from qa.ingest.chunk import chunk_document
    from qa.ingest.read import list_corpus, read_document

    path = list_corpus(SEEDS)[0]
    texts = [c.embed_text for c in chunk_document(read_document(path, path.name, root=SEEDS))][:6]
    assert embedder.backend == "onnx-int8" and len(texts) >= 3
    together = embedder.embed_passages(texts)
    alone = np.concatenate([embedder.embed_passages([t]) for t in texts])
    # beside a long and several short texts: other widths, other padding, other activations
    mixed = embedder.embed_passages([texts[1], "短", texts[0] * 2, texts[2], "社会工作 social work"])
    assert together.tobytes() == alone.tobytes()
    assert mixed[[0, 3]].tobytes() == together[[1, 2]].tobytes()
    assert abs(float(together[0] @ together[1])) < 0.999  # not one vector for every text


def test_fresh_incremental_and_cached_builds_give_identical_vectors(tmp_path, seed_index):
    corpus, fresh = seed_index  # a fresh build of the five seed bulletins
    files = sorted(p.name for p in corpus.iterdir())
    part = tmp_path / "corpus"
    part.mkdir()
    for name in files[:3]:
        shutil.copy(corpus / name, part / name)
    build_index(part, tmp_path / "inc")  # three files, then two more on top: incremental
    for name in files[3:]:
        shutil.copy(corpus / name, part / name)
    report = build_index(part, tmp_path / "inc")
    assert 0 < report.embedded_passages < report.passages
    shutil.copytree(fresh, tmp_path / "cached")  # from scratch: every vector from the embedding cache
    report = build_index(corpus, tmp_path / "cached", rebuild=True)
    assert report.embedded_passages == 0
    want = _vectors_by_key(fresh)
    assert len(want[0]) == report.passages
    for index in (tmp_path / "inc", tmp_path / "cached"):
        assert _vectors_by_key(index) == want
