"""Retrieve stage: dense (FAISS), lexical (BM25 over jieba tokens) and their fusion.

Hybrid (the default) fuses three rank lists by weighted reciprocal rank fusion: e5 passage
similarity, BM25, and the best sentence's share of the query terms; an ensemble index
(``bulletin-qa index --ensemble``) adds the second model's passage and best-sentence lists.
First the query is bridged into the corpus's language: romanised names through the pinyin
of the corpus's own terms, other English words through their nearest corpus terms (the
second model's vectors of both, the words' looked up in a table made once per machine).
The bridged terms join the lexical query.  The lexical
weight follows the query: a mostly-English query that no bridge reached leans on e5.  Each
hit gets its best answering sentence (a character span) for highlighting."""

from __future__ import annotations

import os
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from . import vectorindex
from .embed import Embedder
from .lexical import english_words, romanised_names, tokenize
from .store import StoredIndex

MODES = ("dense", "lexical", "hybrid")
RRF_K = 60
# parts of the hybrid that `bulletin-qa eval --ablation` leaves out one at a time
ABLATIONS = {
    "second": "the second model's passage and best-sentence lists (ensemble indexes only)",
    "pinyin": "the pinyin bridge for romanised names",
    "words": "the English-word-to-corpus-term bridge",
    "sentence_terms": "the best sentence's share of the query terms",
}
LIST_WEIGHT = 1.5


@dataclass
class Hit:
    row: int
    score: float
    ranks: dict = field(default_factory=dict)
    highlight: tuple[int, int] | None = None
    similarity: float | None = None  # dense (e5) cosine of query and passage


class Ranking(list):
    """The hits, best first; ``best_similarity`` is the highest dense cosine over all the
    searched passages (None when the dense side did not run), for a no-answer verdict."""

    best_similarity: float | None = None


def cjk_ratio(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\u3400" <= c <= "\u9fff") / len(letters)


def validate_query(query, k: int) -> str:
    if not isinstance(query, str):
        raise TypeError(f"query must be a string, not {type(query).__name__}")
    q = unicodedata.normalize("NFC", query)
    q = "".join(c for c in q if unicodedata.category(c)[0] != "C" or c in "\t\n")
    q = " ".join(q.split())
    if not q:
        raise ValueError("the query is empty: type a question or some keywords")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
        raise ValueError(f"k must be an integer from 1 to 100, not {k!r}")
    return q[:2000]


class _OneBlasThread:
    """numpy's BLAS on one thread while a query runs with the torch backend: a multi-threaded
    OpenBLAS call (the word bridge's products) leaves its threads spinning for a while after
    it, which doubled torch's next e5 query embedding (16 -> 32 ms); the ONNX path's one-thread
    query session does not mind, and there two BLAS threads save ~0.2 ms.  Reference-counted under a lock, so
    concurrent searches restore the caller's setting only when the last one leaves."""

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self._libs = None
        self._saved: list[int] = []

    def __enter__(self):
        with self._lock:
            if self._users == 0:
                if self._libs is None:
                    from threadpoolctl import ThreadpoolController

                    self._libs = ThreadpoolController().select(user_api="blas").lib_controllers
                self._saved = [lib.get_num_threads() for lib in self._libs]
                for lib in self._libs:
                    lib.set_num_threads(1)
            self._users += 1

    def __exit__(self, *exc):
        with self._lock:
            self._users -= 1
            if self._users == 0:
                for lib, n in zip(self._libs, self._saved):
                    lib.set_num_threads(n)


_one_blas_thread = _OneBlasThread()


def _pointer_key(index_dir: Path):
    try:
        st = os.stat(os.path.join(index_dir, "CURRENT"))
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class Retriever:
    """Answers queries against the live index of ``index_dir``; reloads when it changes."""

    def __init__(self, index_dir: Path, embedder: Embedder | None = None):
        self.index_dir = Path(index_dir)
        self._embedder = embedder
        self._lock = threading.Lock()
        self._loaded: tuple[tuple | None, StoredIndex] | None = None  # (CURRENT's stat key, index)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            model = self.store.manifest["settings"]["model"].split("@")[0]
            self._embedder = Embedder(model, backend="torch")  # "...+onnx-int8" in the id overrides
        return self._embedder

    @property
    def store(self) -> StoredIndex:
        """The live index, loaded again when the CURRENT pointer changes (a build switches
        versions by renaming a new pointer over it: a new inode)."""
        key = _pointer_key(self.index_dir)
        loaded = self._loaded
        if loaded is None or loaded[0] != key:
            with self._lock:
                key = _pointer_key(self.index_dir)
                if self._loaded is None or self._loaded[0] != key:
                    self._loaded = (key, StoredIndex.load(self.index_dir))
                loaded = self._loaded
        return loaded[1]

    # ------------------------------------------------------------------ modes

    def dense(self, store: StoredIndex, qvec: np.ndarray, n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        return vectorindex.nearest(store.faiss_index, store.vectors, qvec, n, rows)

    def lexical(self, store: StoredIndex, tokens: list[str], n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        scores = store.bm25.scores(tokens, len(store.passages))
        if rows is None:
            rows = np.arange(len(scores))
        else:
            scores = scores[rows]
        return [(i, s) for i, s in vectorindex.top_k(rows, scores, n) if s > 0]

    def search(self, query: str, k: int = 5, mode: str = "hybrid", sources: list[str] | None = None,
               without: frozenset[str] = frozenset()) -> tuple[StoredIndex, list[Hit]]:
        """``without``: parts of the hybrid left out, for measuring what each adds (see
        ``ABLATIONS``); the default uses them all."""
        if getattr(self.embedder, "backend", None) == "torch":  # torch's threads meet OpenBLAS's
            with _one_blas_thread:
                return self._search(query, k, mode, sources, without)
        return self._search(query, k, mode, sources, without)  # (ONNX queries run on one thread)

    def _search(self, query: str, k: int, mode: str, sources: list[str] | None,
                without: frozenset[str]) -> tuple[StoredIndex, list[Hit]]:
        q = validate_query(query, k)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not set(without) <= set(ABLATIONS):
            raise ValueError(f"unknown parts {sorted(set(without) - set(ABLATIONS))}; known: {', '.join(ABLATIONS)}")
        store = self.store
        rows = store.rows_of(sources) if sources else None  # a source filter, applied inside each search
        pool = min(len(store.passages) if rows is None else len(rows), max(50, 4 * k))
        names, named = [], []  # corpus terms the query's Latin words stand for; the names among them
        if mode == "hybrid" or mode == "lexical":
            names = romanised_names(q, store.bridge or {}) if "pinyin" not in without else []
            named = list(names)
            if store.terms and "words" not in without:
                words = english_words(q, store.bridge, known=self.second.knows)
                names += [t for t in map_words(self.second.embed_words(words), store) if t not in names]
        lex_tokens = tokenize(q) + names
        weights = term_weights(lex_tokens, store.bm25.idf)
        lists: dict[str, list[tuple[int, float]]] = {}
        if mode in ("dense", "hybrid"):
            qvec = self.embedder.embed_queries([q])[0]
            lists["dense"] = self.dense(store, qvec, pool, rows)
        if mode in ("lexical", "hybrid"):
            lists["lexical"] = self.lexical(store, lex_tokens, pool, rows)
        uq = None
        if mode == "hybrid" and store.use_vectors is not None and "second" not in without:  # an ensemble index
            uq = self.second.embed_queries([q])[0]  # FAISS (HNSW past the threshold) or exact, as for e5
            lists["use"] = vectorindex.nearest(store.use_index, store.use_vectors, uq, pool, rows)
        if mode == "hybrid":
            candidates = sorted({i for hits in lists.values() for i, _ in hits})
            rescored = {}  # each candidate's best sentence, by meaning (ensemble) and by the query's terms
            if uq is not None:
                rescored["sentence"] = self.sentence_scores(store, uq, candidates)
            if "sentence_terms" not in without:
                rescored["sentence_terms"] = sentence_term_scores(store, weights, candidates)
            for name, scores in rescored.items():
                lists[name] = sorted(scores.items(), key=lambda t: (-t[1], t[0]))
            hits = self.fuse(lists, q, bool(names))
            if named:  # a query that names a place or person is answered by passages about it
                hits.sort(key=lambda h: not any(n in store.passages[h.row]["embed_text"] for n in named))
        else:
            hits = [Hit(i, s, {mode: r}) for r, (i, s) in enumerate(lists[mode], 1)]
        ranking = Ranking(hits[:k])
        for h in ranking:
            h.highlight = self.highlight(store, h.row, weights, uq)
        if "dense" in lists:
            ranking.best_similarity = lists["dense"][0][1] if lists["dense"] else None
            if ranking:
                sims = np.asarray(store.vectors)[[h.row for h in ranking]] @ qvec
                for h, sim in zip(ranking, sims):
                    h.similarity = float(sim)
        return store, ranking

    @cached_property
    def second(self):
        from .embed import UseEmbedder

        return UseEmbedder()

    def sentence_scores(self, store: StoredIndex, uq: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Each candidate passage scored by its best sentence (second model), one matrix product."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return {}
        spans = store.sent_spans[rows]
        keep = spans[:, 1] > 0
        rows, first, count = rows[keep], spans[keep, 0], spans[keep, 1]
        if not len(rows):
            return {}
        starts = np.cumsum(count) - count  # where each passage's sentences begin in the gathered block
        gather = np.repeat(first - starts, count) + np.arange(int(count.sum()))
        best = np.maximum.reduceat(np.asarray(store.sent_vectors)[gather] @ uq, starts)
        return dict(zip(rows.tolist(), best.tolist()))

    def highlight(self, store: StoredIndex, row: int, weights: dict[str, float], uq) -> tuple[int, int] | None:
        spans, texts, _ = store.sentence_view(row)
        if not spans:
            return None
        sims = None
        if uq is not None and store.sent_spans is not None:
            a, c = store.sent_spans[row]
            if c == len(spans):
                sims = np.asarray(store.sent_vectors[a:a + c]) @ uq
        return best_sentence(spans, texts, weights, sims)

    def fuse(self, lists: dict[str, list[tuple[int, float]]], query: str, bridged: bool) -> list[Hit]:
        zh = cjk_ratio(query)
        lexical = 0.3 + 0.7 * zh
        if bridged:  # a bridge put the query into the corpus's language: the lexical side sees
            lexical = 1.0  # it as it sees a Chinese query
        # e5 and the two lexical lists (BM25, the best sentence's share of the terms) weigh the
        # same, the lexical ones scaled by how far the query is in the corpus's language; an
        # ensemble index adds the second model's passage and best-sentence lists at 1 each
        weights = {"dense": LIST_WEIGHT, "use": 1.0, "sentence": 1.0,
                   "lexical": LIST_WEIGHT * lexical, "sentence_terms": LIST_WEIGHT * lexical}
        scores: dict[int, float] = {}
        ranks: dict[int, dict[str, int]] = {}
        for mode, hits in lists.items():
            w = weights[mode]
            for r, (i, _s) in enumerate(hits, 1):
                scores[i] = scores.get(i, 0.0) + w / (RRF_K + r)
                ranks.setdefault(i, {})[mode] = r
        return [Hit(i, sc, ranks[i]) for i, sc in sorted(scores.items(), key=lambda t: -t[1])]


WORD_BRIDGE_MIN = 0.75  # cosine of an English word to a corpus term (USE) to count as its translation
WORD_BRIDGE_TOP = 2


def map_words(word_vectors: np.ndarray, store: StoredIndex) -> list[str]:
    """Corpus terms nearest (second model) to each English word of the query: "collaborative"
    -> 合作, 协作; "certificate" -> 证书.  Derived from the corpus vocabulary, not a word list."""
    if not len(word_vectors) or store.term_vectors is None or not len(store.terms):
        return []
    terms = np.asarray(store.term_vectors)
    top = min(WORD_BRIDGE_TOP, len(terms))
    out: list[str] = []
    for w in word_vectors:
        row = terms @ w  # one product per word: a (words x terms) GEMM this thin is slower here
        best = np.argpartition(-row, top - 1)[:top]
        for j in best[np.argsort(-row[best], kind="stable")]:
            if row[j] >= WORD_BRIDGE_MIN and store.terms[j] not in out:
                out.append(store.terms[j])
    return out


def term_weights(tokens: list[str], idf) -> dict[str, float]:
    """The query terms worth matching inside a sentence (words, not single characters, and
    numbers), each weighted by its IDF with a floor of 0.5."""
    return {t: max(idf(t), 0.5) for t in tokens if len(t) > 1 or t.isdigit()}


def sentence_term_scores(store: StoredIndex, weights: dict[str, float], rows: list[int]) -> dict[int, float]:
    """Each candidate scored by its best sentence's share of the (IDF-weighted) query terms
    (``term_weights``): the passage whose single sentence holds the question's words is the
    likelier answer."""
    total = sum(weights.values())
    out: dict[int, float] = {}
    if not total:
        return out
    items = list(weights.items())
    view = store.sentence_view
    for i in rows:
        _, sents, whole = view(i)
        present = [(t, w) for t, w in items if t in whole]  # most terms miss most passages
        best = max((sum(w for t, w in present if t in sent) for sent in sents), default=0.0) if present else 0.0
        if best:
            out[i] = best / total
    return out


def best_sentence(spans: list[tuple[int, int]], texts: list[str], weights: dict[str, float],
                  sims: np.ndarray | None = None) -> tuple[int, int]:
    """The span of the sentence that best answers: shared (IDF-weighted) query terms, digits
    weighing extra, plus the second model's similarity of the sentence to the query.
    ``texts``: the sentences NFKC-normalised and lower-cased, one per span."""
    total = sum(weights.values()) or 1.0
    doubled = {t: w * (2.0 if any(c.isdigit() for c in t) else 1.0) for t, w in weights.items()}
    best, best_score = spans[0], -1e9
    for n, (span, sent) in enumerate(zip(spans, texts)):
        score = sum(w for t, w in doubled.items() if t in sent) / total + (float(sims[n]) if sims is not None else 0.0)
        if score > best_score:
            best, best_score = span, score
    return best
