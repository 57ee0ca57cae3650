"""Store stage, vector side: which FAISS index holds a set of normalised vectors.

Exact search (``IndexFlatIP``) while the set is small; from ``threshold`` vectors on,
an approximate graph index (``IndexHNSWFlat``, inner product, M=32) is chosen automatically.
Exact search costs n·dim multiply-adds per query: on the shared 2-core machine of
docs/figures.md one 384-d query took ≈50-80 ms at 100k vectors (so ≈10 ms near 12-20k), while
HNSW (efSearch 256) answers in ≈0.3-1 ms with recall@10 ≥ 0.97 against exact at 1M vectors.
Below the threshold exact search is both faster to build and exact, so nothing is lost.

The choice is recorded in the manifest (``"faiss"``: a short description such as
``"IndexHNSWFlat(M=32,efConstruction=80,efSearch=256)"``); efSearch is stored inside the index file too,
so a reader needs no settings.  The threshold and the search depth are given by the caller
(``Settings.ann_threshold`` / ``ef_search``: ``BULLETIN_QA_ANN_THRESHOLD``, which tests set small,
and ``BULLETIN_QA_EF_SEARCH``); left out, they are the settings' defaults.
"""

from __future__ import annotations


import numpy as np

from qa.settings import Settings

HNSW_M = 32
EF_CONSTRUCTION = 80


def build_vector_index(vectors: np.ndarray, dim: int | None = None, threshold: int | None = None,
                       ef: int | None = None):
    """A FAISS inner-product index over ``vectors`` (float32 [n, dim], L2-normalised):
    exact below ``threshold`` vectors, HNSW at or above it (default: ``Settings.ann_threshold``'s,
    qa/settings.py, with the measurement that chose it), searched ``ef`` deep."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = int(dim or (vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 0))
    n = len(vectors)
    threshold = Settings.ann_threshold if threshold is None else threshold
    if n < threshold:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        index.hnsw.efSearch = ef or Settings.ef_search
    if n:
        index.add(vectors)
    return index


def describe(index) -> str:
    """The manifest's ``"faiss"`` entry for ``index``."""
    import faiss

    if isinstance(index, faiss.IndexHNSWFlat):
        return f"IndexHNSWFlat(M={HNSW_M},efConstruction={index.hnsw.efConstruction},efSearch={index.hnsw.efSearch})"
    return type(index).__name__


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the ``k`` nearest rows for each query row; ids are -1 where fewer exist."""
    q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    k = max(1, min(k, index.ntotal)) if index.ntotal else 1
    if index.ntotal == 0:
        return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
    return index.search(q, k)


def nearest(index, vectors, query: np.ndarray, k: int, rows: np.ndarray | None = None,
            threshold: int | None = None) -> list[tuple[int, float]]:
    """The ``k`` rows nearest to one query as (row, score), best first.  ``rows`` restricts the
    search (a source filter): while they are fewer than the ANN threshold they are scored
    exactly from ``vectors``; past it the HNSW graph is searched with an ID selector, so a
    filtered search costs what an unfiltered one does instead of asking the index for every
    row.  ``index`` None: exact over ``vectors``.  ``threshold``: the ANN threshold (default
    ``Settings.ann_threshold``'s)."""
    import faiss

    q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
    threshold = Settings.ann_threshold if threshold is None else threshold
    if rows is not None and (index is None or len(rows) < threshold or not isinstance(index, faiss.IndexHNSWFlat)):
        if not len(rows):
            return []
        rows = np.sort(rows)
        return top_k(rows, np.asarray(vectors[rows]) @ q[0], k)
    if index is None:
        return top_k(np.arange(len(vectors)), np.asarray(vectors) @ q[0], k)
    if index.ntotal == 0:
        return []
    if rows is None:
        scores, ids = index.search(q, max(1, min(k, index.ntotal)))
    else:
        params = faiss.SearchParametersHNSW(sel=faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64)))
        params.efSearch = max(index.hnsw.efSearch, k)
        scores, ids = index.search(q, max(1, min(k, len(rows))), params=params)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]


def top_k(rows: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (row, score) pairs, best first (ties in row order)."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(rows[j]), float(scores[j])) for j in top]


def recall_at_k(approx_ids: np.ndarray, exact_ids: np.ndarray, k: int = 10) -> float:
    """Mean share of the exact top-k found in the approximate top-k."""
    hits = [len(set(a[:k]) & set(e[:k])) / k for a, e in zip(approx_ids, exact_ids)]
    return float(np.mean(hits)) if hits else 1.0
