"""Index stage, BM25 in PostgreSQL at archive size: impact-ordered postings, read a prefix at a time.

A version's BM25 side is two things per token kind (jieba tokens; character bigrams):

* the **terms table**, one row a term: ``(term, df, idf, rows, imps)`` where ``rows`` (int32) and
  ``imps`` (float64) are the term's postings with their BM25 *impact*
  ``idf * tf / (tf + k1 * (1 - b + b * dl / avgdl))`` (bm25s "lucene", k1 1.5, b 0.75: the folder's
  parameters), computed at build time and **ordered by impact, highest first** (then by row).  The
  two columns are stored uncompressed out of line (``STORAGE EXTERNAL``), so ``substring`` reads
  only the TOAST chunks of the prefix it asks for;
* the **forward index**, a jsonb column of the passages table: each passage's term counts, which
  give any (term, passage) impact by a key lookup.

A query (:func:`top`) is Fagin's threshold algorithm over those lists: read the first ``FIRST``
postings of each query term, sum what was seen (a lower bound of each passage's score), bound
what was not by the last impact read of each unfinished list, score the few passages that can
still reach the top ``n`` exactly through the forward index, and stop when no unseen passage can
beat the n-th of them; otherwise read four times more of the unfinished lists.  A common term's
long list is thus read only as far as it matters, and the result is **exactly** the top ``n`` of
the full BM25 sum (the same passages, the same order, the same scores to the last bits) that the
previous design computed in SQL over every posting.  A filtered search scores its rows through
the forward index (or reads the lists whole when the filter keeps many rows).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Callable

import numpy as np

K1, B = 1.5, 0.75  # bm25s's defaults, as the folder store (qa/index/bm25.py) uses them
FIRST = 4096  # postings read per query term in the first round (12 bytes each: reading is cheap)
GROWTH = 4  # each further round reads this many times more
CONTENDERS = 2  # at most this many times n passages are scored through the forward index (a key
#                 lookup each, dearer than thousands of postings read); more: read further first
FORWARD_ROWS = 2048  # a filter keeping at most this many rows is scored through the forward index
ROW, IMP = np.dtype("<i4"), np.dtype("<f8")


def idf_of(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def impacts(idf, tf, dl, avgdl: float) -> np.ndarray:
    """BM25 impact of a posting (float64): the one formula of the build and of the forward index."""
    tf = np.asarray(tf, dtype=np.float64)
    return np.asarray(idf, dtype=np.float64) * tf / (tf + K1 * (1 - B + B * np.asarray(dl, dtype=np.float64) / avgdl))


def inverted(docs: list[list[str]]):
    """(forward, terms): each doc's term counts, and ``[(term, df, idf, rows bytes, imps bytes)]``
    with each term's postings ordered by impact (highest first), then row."""
    n = len(docs)
    avgdl = float(np.mean([len(d) for d in docs])) if n else 1.0
    ids: dict[str, int] = {}
    forward: list[dict[str, int]] = []
    tid, row, tf = [], [], []
    for i, doc in enumerate(docs):
        counts = Counter(doc)
        forward.append(dict(counts))
        tid.append(np.fromiter((ids.setdefault(t, len(ids)) for t in counts), dtype=np.int32, count=len(counts)))
        row.append(np.full(len(counts), i, dtype=np.int32))
        tf.append(np.fromiter(counts.values(), dtype=np.int32, count=len(counts)))
    if not ids:
        return forward, []
    tid_a, row_a, tf_a = np.concatenate(tid), np.concatenate(row), np.concatenate(tf)
    del tid, row, tf
    dl = np.asarray([len(d) for d in docs], dtype=np.float64)
    df = np.bincount(tid_a, minlength=len(ids))
    idf = np.asarray([idf_of(n, int(d)) for d in df])
    imp = impacts(idf[tid_a], tf_a, dl[row_a], avgdl)
    order = np.lexsort((row_a, -imp, tid_a))
    row_a, imp = row_a[order].astype(ROW), imp[order].astype(IMP)
    ends = np.cumsum(df)
    terms = []
    for term, j in ids.items():
        a, b = int(ends[j] - df[j]), int(ends[j])
        terms.append((term, int(df[j]), float(idf[j]), row_a[a:b].tobytes(), imp[a:b].tobytes()))
    return forward, terms


# --------------------------------------------------------------------------- the query

Fetch = Callable[[list[str], int, "int | None"], dict]  # (terms, first posting, how many or all) ->
#                                                          {term: (df, idf, rows bytes, imps bytes)}
Forward = Callable[[list[int], list[str]], dict]  # (rows, terms) -> {row: (dl, [tf of each term])}


class _Lists:
    """What has been read of each query term's impact-ordered postings."""

    def __init__(self, weights: dict[str, float]):
        self.terms = list(weights)
        self.w = np.asarray([weights[t] for t in self.terms], dtype=np.float64)
        self.df = np.zeros(len(self.terms), dtype=np.int64)
        self.idf = np.zeros(len(self.terms), dtype=np.float64)
        self.read = np.zeros(len(self.terms), dtype=np.int64)
        self.rows: list[list[np.ndarray]] = [[] for _ in self.terms]
        self.imps: list[list[np.ndarray]] = [[] for _ in self.terms]
        self.last = np.zeros(len(self.terms), dtype=np.float64)
        self.known = np.zeros(len(self.terms), dtype=bool)

    def add(self, got: dict) -> None:
        for j, t in enumerate(self.terms):
            if t not in got:
                continue
            df, idf, rows, imps = got[t]
            r, v = np.frombuffer(rows, dtype=ROW), np.frombuffer(imps, dtype=IMP)
            self.df[j], self.idf[j], self.known[j] = df, idf, True
            if len(v):
                self.rows[j].append(r)
                self.imps[j].append(v)
                self.read[j] += len(v)
                self.last[j] = v[-1]

    def open(self) -> list[str]:
        return [t for j, t in enumerate(self.terms) if self.known[j] and self.read[j] < self.df[j]]

    def thresholds(self) -> np.ndarray:
        """Each term's bound on what an unread posting adds (0 for a finished list)."""
        return np.where(self.known & (self.read < self.df), self.w * self.last, 0.0)

    def seen(self, n_docs: int):
        """(rows seen, lower bound of their score, sum of the thresholds of the lists they were seen
        in), by counting over every passage id (cheaper than sorting what was read)."""
        thr = self.thresholds()
        parts = [(np.concatenate(self.rows[j]), np.concatenate(self.imps[j]) * self.w[j], thr[j])
                 for j in range(len(self.terms)) if self.rows[j]]
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
        lower = np.zeros(n_docs, dtype=np.float64)
        held = np.zeros(n_docs, dtype=np.float64)
        hit = np.zeros(n_docs, dtype=bool)
        for rows, contrib, t in parts:
            lower += np.bincount(rows, weights=contrib, minlength=n_docs)
            hit[rows] = True
            if t:
                held[rows] += t
        seen = np.flatnonzero(hit)
        return seen, lower[seen], held[seen]


def _ranked(rows, scores, n: int) -> list[tuple[int, float]]:
    """The n best (score desc, row asc), positive scores only."""
    rows, scores = np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float64)
    keep = scores > 0
    rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:n]
    return [(int(rows[i]), float(scores[i])) for i in order]


def exact_scores(rows: list[int], lists: _Lists, forward: Forward, avgdl: float) -> np.ndarray:
    """The full BM25 sums of ``rows`` from their term counts (the forward index)."""
    known = [j for j in range(len(lists.terms)) if lists.known[j]]
    got = forward(rows, [lists.terms[j] for j in known])
    out = np.zeros(len(rows), dtype=np.float64)
    for i, r in enumerate(rows):
        dl, tfs = got[r]
        tfs = np.asarray(tfs, dtype=np.float64)
        hit = tfs > 0
        if hit.any():
            js = np.asarray(known)[hit]
            out[i] = float(np.sum(lists.w[js] * impacts(lists.idf[js], tfs[hit], dl, avgdl)))
    return out


def top(weights: dict[str, float], n: int, avgdl: float, n_docs: int, fetch: Fetch, forward: Forward, rows=None,
        first: int = FIRST) -> list[tuple[int, float]]:
    """The ``n`` best passages by BM25 for query term weights (only of ``rows`` when a filter is
    set), exactly; reading each term's impact-ordered list only as far as needed."""
    weights = {t: float(w) for t, w in weights.items() if w > 0}
    if not weights or n <= 0 or (rows is not None and not len(rows)):
        return []
    lists = _Lists(weights)
    if rows is not None:
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        if len(rows) <= FORWARD_ROWS:  # the filter's rows, scored one by one
            lists.add(fetch(lists.terms, 0, 0))
            return _ranked(rows, exact_scores([int(r) for r in rows], lists, forward, avgdl), n)
        lists.add(fetch(lists.terms, 0, None))
        seen, lower, _ = lists.seen(n_docs)
        keep = np.isin(seen, rows)
        return _ranked(seen[keep], lower[keep], n)
    lists.add(fetch(lists.terms, 0, max(first, n)))
    while True:
        thr = lists.thresholds()
        unseen = float(thr.sum())
        seen, lower, held = lists.seen(n_docs)
        if unseen == 0.0:  # every list read whole: the sums are exact
            return _ranked(seen, lower, n)
        if len(seen) >= n:
            kth = float(np.partition(lower, len(lower) - n)[len(lower) - n])
            margin = 1e-9 * max(1.0, kth)
            if unseen < kth - margin:
                upper = lower + (unseen - held)
                contenders = seen[upper >= kth - margin]
                if len(contenders) <= CONTENDERS * n:
                    exact = exact_scores([int(r) for r in contenders], lists, forward, avgdl)
                    best = _ranked(contenders, exact, n)
                    if len(best) == n and unseen < best[-1][1] - margin:
                        return best
        terms = lists.open()  # every unfinished list has been read to the same depth
        start = int(lists.read[lists.terms.index(terms[0])])
        lists.add(fetch(terms, start, start * (GROWTH - 1)))
