"""Retrieve stage: dense (FAISS), lexical (BM25 over jieba tokens) and their fusion.

Hybrid (the default) fuses five rank lists by weighted reciprocal rank fusion: e5 passage
similarity, the second model's passage similarity and its best-sentence similarity (the
semantic side), BM25 and the best sentence's share of the query terms (the lexical side).
Before the lexical side runs, the query is bridged into the corpus's language: romanised
names through the pinyin of the corpus's own terms, other English words through their
nearest corpus terms.  The lexical weight follows the query: a mostly-English query that no
bridge reached leans on the semantic side.  Each hit gets its best answering sentence (a
character span) for highlighting.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from .chunk import sentences
from . import vectorindex
from .embed import Embedder
from .lexical import english_words, romanised_names, tokenize
from .store import StoredIndex, live_version

MODES = ("dense", "lexical", "hybrid")
RRF_K = 60
# parts of the hybrid that `bulletin-qa eval --ablation` leaves out one at a time
ABLATIONS = {
    "second": "the second model (USE passage and best-sentence lists)",
    "pinyin": "the pinyin bridge for romanised names",
    "words": "the English-word-to-corpus-term bridge",
    "sentence_terms": "the best sentence's share of the query terms",
}
LEXICAL_SIDE = 1.5


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


class Retriever:
    """Answers queries against the live index of ``index_dir``; reloads when it changes."""

    def __init__(self, index_dir: Path, embedder: Embedder | None = None):
        self.index_dir = Path(index_dir)
        self._embedder = embedder
        self._lock = threading.Lock()
        self._loaded: tuple[Path, StoredIndex] | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            model = self.store.manifest["settings"]["model"].split("@")[0]
            self._embedder = Embedder(model, backend="torch")  # "...+onnx-int8" in the id overrides
        return self._embedder

    @property
    def store(self) -> StoredIndex:
        live = live_version(self.index_dir)
        loaded = self._loaded
        if loaded is None or loaded[0] != live:
            with self._lock:
                if self._loaded is None or self._loaded[0] != live_version(self.index_dir):
                    s = StoredIndex.load(self.index_dir)
                    self._loaded = (s.path, s)
                loaded = self._loaded
        return loaded[1]

    # ------------------------------------------------------------------ modes

    def dense(self, store: StoredIndex, qvec: np.ndarray, n: int) -> list[tuple[int, float]]:
        if store.faiss_index.ntotal == 0:
            return []
        scores, ids = store.faiss_index.search(qvec.reshape(1, -1), min(n, store.faiss_index.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def lexical(self, store: StoredIndex, tokens: list[str], n: int) -> list[tuple[int, float]]:
        scores = store.bm25.scores(tokens, len(store.passages))
        if not len(scores):
            return []
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def search(self, query: str, k: int = 5, mode: str = "hybrid", sources: list[str] | None = None,
               without: frozenset[str] = frozenset()) -> tuple[StoredIndex, list[Hit]]:
        """``without``: parts of the hybrid left out, for measuring what each adds (see
        ``ABLATIONS``); the default uses them all."""
        q = validate_query(query, k)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not set(without) <= set(ABLATIONS):
            raise ValueError(f"unknown parts {sorted(set(without) - set(ABLATIONS))}; known: {', '.join(ABLATIONS)}")
        store = self.store
        n_all = len(store.passages)
        pool = n_all if sources else min(n_all, max(50, 4 * k))
        tokens = tokenize(q)
        names = romanised_names(q, store.bridge or {}) if "pinyin" not in without else []
        named = list(names)  # places and persons the query names in Latin letters
        words = english_words(q, store.bridge) if mode != "dense" and store.terms and "words" not in without else []
        lists: dict[str, list[tuple[int, float]]] = {}
        uq = None
        second = mode == "hybrid" and store.use_vectors is not None and "second" not in without
        if mode in ("dense", "hybrid"):
            qvec = self.embedder.embed_queries([q])[0]
            lists["dense"] = self.dense(store, qvec, pool)
        if second or words:  # the query and its English words, one call
            vecs = self.second.embed_queries([q] + words)
            uq = vecs[0] if second else None
            names += [t for t in map_words(vecs[1:], store) if t not in names]
        lex_tokens = tokens + names
        if mode in ("lexical", "hybrid"):
            lists["lexical"] = self.lexical(store, lex_tokens, pool)
        if uq is not None and store.use_index is not None:  # FAISS, HNSW past the threshold (qa/vectorindex.py)
            scores, ids = vectorindex.search(store.use_index, uq, pool)
            lists["use"] = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        elif uq is not None:
            scores = np.asarray(store.use_vectors) @ uq
            top = np.argsort(-scores, kind="stable")[:pool]
            lists["use"] = [(int(i), float(scores[i])) for i in top]
        if sources:
            allowed = set(sources)
            lists = {m: [(i, s) for i, s in hits if store.passages[i]["source"] in allowed]
                     for m, hits in lists.items()}
        if mode == "hybrid":
            candidates = {i for hits in lists.values() for i, _ in hits}
            if uq is not None:
                lists["sentence"] = self.sentence_scores(store, uq, candidates)
            if "sentence_terms" not in without:
                lists["sentence_terms"] = sentence_term_scores(store, lex_tokens, candidates)
            hits = self.fuse(lists, q, bool(names))
            if named:  # a query that names a place or person is answered by passages about it
                hits.sort(key=lambda h: not any(n in store.passages[h.row]["embed_text"] for n in named))
        else:
            hits = [Hit(i, s, {mode: r}) for r, (i, s) in enumerate(lists[mode], 1)]
        ranking = Ranking(hits[:k])
        for h in ranking:
            h.highlight = self.highlight(store, h.row, lex_tokens, uq)
        if "dense" in lists:
            ranking.best_similarity = lists["dense"][0][1] if lists["dense"] else None
            vectors = store.vectors
            for h in ranking:
                h.similarity = float(np.asarray(vectors[h.row]) @ qvec)
        return store, ranking

    @cached_property
    def second(self):
        from .embed import UseEmbedder

        return UseEmbedder()

    def sentence_scores(self, store: StoredIndex, uq: np.ndarray, rows: set[int]) -> list[tuple[int, float]]:
        """Each candidate passage scored by its best sentence (second model)."""
        out = []
        for i in rows:
            a, c = store.sent_spans[i]
            if c:
                out.append((i, float(np.max(np.asarray(store.sent_vectors[a:a + c]) @ uq))))
        return sorted(out, key=lambda t: -t[1])

    def highlight(self, store: StoredIndex, row: int, tokens: list[str], uq) -> tuple[int, int] | None:
        text = store.passages[row]["text"]
        spans = sentences(text)
        if not spans:
            return None
        sims = None
        if uq is not None and store.sent_spans is not None:
            a, c = store.sent_spans[row]
            if c == len(spans):
                sims = np.asarray(store.sent_vectors[a:a + c]) @ uq
        return best_sentence(text, spans, tokens, store.bm25.idf, sims)

    def fuse(self, lists: dict[str, list[tuple[int, float]]], query: str, bridged: bool) -> list[Hit]:
        zh = cjk_ratio(query)
        lexical = 0.3 + 0.7 * zh
        if bridged:  # a bridge put the query into the corpus's language: the lexical side sees
            lexical = 1.0  # it as it sees a Chinese query
        # the two sides carry equal weight: three semantic lists (e5, second model, its best
        # sentence) at 1, two lexical lists (BM25, best sentence's share of the terms) at 1.5
        weights = {"dense": 1.0, "use": 1.0, "sentence": 1.0,
                   "lexical": LEXICAL_SIDE * lexical, "sentence_terms": LEXICAL_SIDE * lexical}
        fused: dict[int, Hit] = {}
        for mode, hits in lists.items():
            for r, (i, _s) in enumerate(hits, 1):
                h = fused.setdefault(i, Hit(i, 0.0))
                h.score += weights[mode] / (RRF_K + r)
                h.ranks[mode] = r
        return sorted(fused.values(), key=lambda h: -h.score)


WORD_BRIDGE_MIN = 0.75  # cosine of an English word to a corpus term (USE) to count as its translation
WORD_BRIDGE_TOP = 2


def map_words(word_vectors: np.ndarray, store: StoredIndex) -> list[str]:
    """Corpus terms nearest (second model) to each English word of the query: "collaborative"
    -> 合作, 协作; "certificate" -> 证书.  Derived from the corpus vocabulary, not a word list."""
    if not len(word_vectors) or store.term_vectors is None or not len(store.terms):
        return []
    sims = word_vectors @ np.asarray(store.term_vectors).T
    out: list[str] = []
    for row in sims:
        for j in np.argsort(-row)[:WORD_BRIDGE_TOP]:
            if row[j] >= WORD_BRIDGE_MIN and store.terms[j] not in out:
                out.append(store.terms[j])
    return out


def term_weights(tokens: list[str], idf) -> dict[str, float]:
    """The query terms worth matching inside a sentence (words, not single characters, and
    numbers), each weighted by its IDF with a floor of 0.5."""
    return {t: max(idf(t), 0.5) for t in tokens if len(t) > 1 or t.isdigit()}


def sentence_term_scores(store: StoredIndex, tokens: list[str], rows: set[int]) -> list[tuple[int, float]]:
    """Each candidate scored by its best sentence's share of the (IDF-weighted) query terms:
    the passage whose single sentence holds the question's words is the likelier answer."""
    weights = term_weights(tokens, store.bm25.idf)
    total = sum(weights.values())
    if not total:
        return []
    out = []
    for i in rows:
        best = max((sum(w for t, w in weights.items() if t in sent) for sent in store.sentence_texts(i)), default=0.0)
        if best:
            out.append((i, best / total))
    return sorted(out, key=lambda t: -t[1])


def best_sentence(text: str, spans: list[tuple[int, int]], tokens: list[str], idf,
                  sims: np.ndarray | None = None) -> tuple[int, int] | None:
    """The span of the sentence that best answers: shared (IDF-weighted) query terms, digits
    weighing extra, plus the second model's similarity of the sentence to the query."""
    weights = term_weights(tokens, idf)
    total = sum(weights.values()) or 1.0
    best, best_score = spans[0], -1e9
    for n, (s, e) in enumerate(spans):
        sent = unicodedata.normalize("NFKC", text[s:e]).lower()
        lex = sum(w * (2.0 if any(c.isdigit() for c in t) else 1.0) for t, w in weights.items() if t in sent)
        score = lex / total + (float(sims[n]) if sims is not None else 0.0)
        if score > best_score:
            best, best_score = (s, e), score
    return best
