"""Retrieve stage: the search as a sequence of steps, each a function.

Understand the question against the index (``qa/retrieve/query.py``: its Chinese words, English
words and phrases through CC-CEDICT, romanised names through the pinyin of the corpus's names,
the places and years it names) -> the candidate lists over the index -> the rescoring lists over
their candidates -> fusion -> annotation (the answering sentence, the dense cosine).  Which lists
run, their weights, what scales them and which questions each serves are declared once, in
``qa/retrieve/lists.py``; the fusion (``qa/retrieve/fusion.py``) is a min-max-normalised
weighted sum of them.  An ensemble index (``--ensemble``) adds the second model's passage and
best-sentence lists; the second model's nearest corpus terms can bridge English words CC-CEDICT
does not reach (``word_bridge``)."""

from __future__ import annotations

import contextlib
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.ingest import metadata
from qa.messages import Msg
from qa.retrieve import fusion as rank
from qa.retrieve import lists as ranked
from qa.retrieve import verdict
from qa.embed.model import Embedder, UseEmbedder
from qa.retrieve.highlight import AnswerCue, answer_cue, joined, marked_sentences, through_semicolons
from qa.retrieve.listing import diversify, items_of, list_intent
from qa.retrieve.lists import term_weights
from qa.text.tokens import bigrams
from qa.text.variants import simplified
from qa.retrieve.query import QueryTerms, understand
from qa.text.chars import zh_share
from qa.index import stores
from qa.index.base import IndexStore

MODES = ("dense", "lexical", "hybrid")
# parts of the hybrid that `bulletin-qa eval --ablation` leaves out one at a time: the ranked lists and
# bridges (qa/retrieve/lists.py), the verdict's rules and readings (qa/retrieve/verdict.py)
ABLATIONS = ranked.PARTS | verdict.PARTS
USE_WORD_BRIDGE = True  # measured against CC-CEDICT alone: see README "Figures"


@dataclass
class Hit:
    row: int
    score: float
    ranks: dict = field(default_factory=dict)
    highlight: tuple[int, int] | None = None
    similarity: float | None = None  # dense (e5) cosine of query and passage
    marks: list = field(default_factory=list)  # the marked spans, the answering sentence first


class Ranking(list):
    """The hits, best first; ``best_similarity`` is the highest dense cosine over all the
    searched passages (None when the dense side did not run), ``terms`` the question as
    understood (qa/retrieve/query.py), both for the verdict."""

    best_similarity: float | None = None
    dense_scores: list | None = None  # the dense list's cosines, best first (its candidate pool), for the verdict
    terms: QueryTerms | None = None
    listing = None  # a list question's ListIntent (qa/retrieve/listing.py), else None
    items: tuple = ()  # for a list question: the indexes of the hits that are its items


def validate_query(query, k: int) -> str:
    if not isinstance(query, str):
        raise TypeError(f"query must be a string, not {type(query).__name__}")
    q = unicodedata.normalize("NFC", query)
    q = "".join(c for c in q if unicodedata.category(c)[0] != "C" or c in "\t\n")
    q = " ".join(q.split())
    if not q:
        raise ValueError(Msg("search.empty", "the query is empty: type a question or some keywords",
                             "问题为空：请输入问题或关键词"))
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
        raise ValueError(bad_k(k))
    return q[:2000]


def bad_k(k) -> Msg:
    return Msg("search.k", "k must be an integer from 1 to 100, not {k!r}", "k 必须是 1 到 100 之间的整数，不能是 {k!r}", k=k)


class OneBlasThread:
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


class _Stage:
    def __init__(self, report, name: str):
        self.report, self.name = report, name

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        self.report(self.name, time.perf_counter() - self.t0)
        return False


class Retriever:
    """Answers queries against the live index of ``index`` (a folder or a database URL,
    qa/index/base.py, or the :class:`qa.index.stores.Live` reader of one); reloads when another
    version goes live.  Its owner (``qa.Index``) gives it the process's models: ``embedders(name)``
    the embedder of the model an index was built with (its id without the hash), ``second()`` the
    second model, and ``blas`` the guard that keeps numpy's BLAS on one thread while a torch query
    runs (OneBlasThread); left out, the retriever loads models of its own and runs unguarded."""

    def __init__(self, index: "Path | str | stores.Live", embedder: Embedder | None = None,
                 fusion: rank.Fusion = ranked.DEFAULT, lexical_floor: float = ranked.LEXICAL_FLOOR,
                 word_bridge: bool = USE_WORD_BRIDGE, *, embedders=None, second=None, blas=None):
        self.live = index if isinstance(index, stores.Live) else stores.Live(index)
        self.index_dir = self.live.location
        self._embedder = embedder
        self._embedders = embedders
        self._second = second
        self._second_model = None
        self.blas = blas
        self.fusion = fusion
        self.lexical_floor = lexical_floor
        self.word_bridge = word_bridge
        self.on_stage = None  # on_stage(name, seconds) after each stage of a search: a timing hook

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            model = self.store.manifest["settings"]["model"].split("@")[0]  # "...+onnx-int8" names the backend
            self._embedder = self._embedders(model) if self._embedders else \
                Embedder(model, backend="torch", settings=self.live.settings)
        return self._embedder

    @property
    def store(self) -> IndexStore:
        """The live index (qa.index.stores.Live.store: loaded again when another version goes live)."""
        return self.live.store

    # ------------------------------------------------------------------ modes

    def dense(self, store: IndexStore, qvec: np.ndarray, n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        return store.dense(qvec, n, rows)

    def lexical(self, store: IndexStore, weights: dict[str, float], n: int,
                rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        return store.lexical(weights, n, rows)

    def bigram(self, store: IndexStore, q: str, n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        return store.bigram_search(bigrams(q), n, rows)

    def search(self, query: str, k: int = 5, mode: str = "hybrid", sources: list[str] | None = None,
               without: frozenset[str] = frozenset(), regions=None, since=None,
               until=None) -> tuple[IndexStore, "Ranking"]:
        """``without``: parts of the hybrid left out, for measuring what each adds (see
        ``ABLATIONS``); the default uses them all.  ``regions`` / ``since`` / ``until``: only
        passages of articles about these places, dated within these bounds (``filter_rows``)."""
        where = Where(regions, since, until)
        if getattr(self.embedder, "backend", None) == "torch" and self.blas is not None:  # torch meets OpenBLAS
            with self.blas:
                return self._search(query, k, mode, sources, without, where)
        return self._search(query, k, mode, sources, without, where)  # (ONNX queries run on one thread)

    def understand(self, store: IndexStore, q: str, without: frozenset[str] = frozenset()) -> QueryTerms:
        vocab = store.vocab
        bridge = None
        if self.word_bridge and store.terms and "words" not in without:
            def bridge(words):
                words = [w for w in words if w not in (store.bridge or {})]
                return dict(zip(words, map_words_each(self.second.embed_words(words), store))) if words else {}
        return understand(q, vocab, store.bridge, cedict="cedict" not in without,
                          use_pinyin="pinyin" not in without, word_bridge=bridge, without=without)

    def _search(self, query: str, k: int, mode: str, sources: list[str] | None,
                without: frozenset[str], where: "Where | None" = None) -> tuple[IndexStore, "Ranking"]:
        """The search as a sequence: check the request, understand the question (bridges), the
        candidate lists, the rescoring lists (hybrid), the fusion, the annotation of the hits.
        Each stage is reported to ``on_stage`` when it is set (benchmarks/run.py times them)."""
        q = simplified(validate_query(query, k))  # Traditional read as Simplified (qa/text/variants.py)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not set(without) <= set(ABLATIONS):
            raise ValueError(f"unknown parts {sorted(set(without) - set(ABLATIONS))}; known: {', '.join(ABLATIONS)}")
        store = self.store
        rows = filter_rows(store, sources, where)  # the filters, applied inside each search
        pool = min(len(store.passages) if rows is None else len(rows), max(50, 4 * k))
        with self._stage("understand the question (tokens, bridges)"):
            terms = self.understand(store, q, without)
        s = ranked.Search(self, store, q, terms, mode, pool, rows, frozenset(without), zh_share(q))
        if mode in ("dense", "hybrid"):
            with self._stage("e5 query embedding"):
                s.qvec = self.embedder.embed_queries([q])[0]
        lists = ranked.run_lists(s, "candidates", self._stage)
        if mode == "hybrid":
            s.candidates = sorted({i for hits in lists.values() for i, _ in hits})
            lists |= ranked.run_lists(s, "rescoring", self._stage)
        fusion = ranked.fusion_for(s, self.fusion, self.lexical_floor)
        with self._stage("fusion"):
            fused = fusion.fuse(lists)
            intent = list_intent(q)
            if intent:  # a list question: one passage per article (place) in the top k (qa/retrieve/listing.py)
                at = {f.row: f for f in fused}
                fused = [at[r] for r in diversify([f.row for f in fused], store.passages, k, intent)]
            ranking = Ranking(Hit(f.row, f.score, f.ranks) for f in fused[:k])
        ranking.terms, ranking.listing = terms, intent
        with self._stage("annotation (highlight, similarity)"):
            self.annotate(store, ranking, lists, s.qvec, s.uq)
        return store, ranking

    def _stage(self, name: str):
        """Times a stage for ``on_stage(name, seconds)`` when it is set; nothing otherwise."""
        return _Stage(self.on_stage, name) if self.on_stage is not None else contextlib.nullcontext()

    def annotate(self, store: IndexStore, ranking: "Ranking", lists: dict, qvec, uq) -> None:
        """Each hit's answering sentence and dense similarity; the best similarity of the search."""
        cue = answer_cue(ranking.terms)
        for h in ranking:
            h.marks = self.highlight(store, h.row, cue, qvec, uq)
            h.highlight = h.marks[0] if h.marks else None
        if ranking.listing:  # the items of a list question, each marked through its enumeration's ；
            for h in ranking:
                spans, text = store.sentence_view(h.row)[0], store.passages[h.row]["text"]
                h.marks = joined([through_semicolons(spans, m, text) for m in h.marks])
                h.highlight = h.marks[0] if h.marks else None
            ranking.items = items_of(store, ranking, cue, term_weights(cue.weights, store.idf))
        if qvec is not None:
            ranking.best_similarity = lists["dense"][0][1] if lists.get("dense") else None
            ranking.dense_scores = [sc for _row, sc in lists.get("dense") or []]
            if ranking:
                sims = store.passage_vectors([h.row for h in ranking]) @ qvec
                for h, sim in zip(ranking, sims):
                    h.similarity = float(sim)

    def has_synonym(self, store: IndexStore, word: str) -> bool:
        """Does the corpus have a term that means ``word`` (the second model's cosine of the two
        at least ``WORD_BRIDGE_MIN``, the bar an English word's translation must clear)?"""
        if store.term_vectors is None or not len(store.terms):
            return False
        v = self.second.embed_passages([word])[0]
        return bool(float(np.max(np.asarray(store.term_vectors) @ v)) >= WORD_BRIDGE_MIN)

    @property
    def second(self):
        """The second model (USE): the word bridge and ensemble indexes."""
        if self._second_model is None:
            self._second_model = self._second() if self._second else UseEmbedder(cache=self.live.settings.cache_dir)
        return self._second_model

    def sentence_scores(self, store: IndexStore, uq: np.ndarray, rows: list[int], e5: bool = False) -> dict[int, float]:
        """Each candidate passage scored by its best sentence, one matrix product: the second
        model's sentence vectors (ensemble), or with ``e5`` the e5 ones (every index)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return {}
        found = store.sentence_vectors(rows, e5=e5)
        if found is None:
            return {}
        vectors, count = found
        keep = count > 0
        rows, count = rows[keep], count[keep]
        if not len(rows):
            return {}
        starts = np.cumsum(count) - count  # where each passage's sentences begin in the gathered block
        best = np.maximum.reduceat(vectors @ uq, starts)
        return dict(zip(rows.tolist(), best.tolist()))

    def highlight(self, store: IndexStore, row: int, cue: AnswerCue, qvec, uq) -> list[tuple[int, int]]:
        """The marked sentences of a hit, the answering one first (qa/retrieve/highlight.py
        ``marked_sentences``); its sentences' e5 similarity to the question (``qvec``, when the
        index has e5 sentence vectors) or else the second model's (``uq``, ensemble) joins the
        question's terms, figures and places in choosing them."""
        spans, texts, sims = self.sentence_sims(store, row, qvec, uq)
        if not spans:
            return []
        return marked_sentences(spans, texts, term_weights(cue.weights, store.idf), sims, cue.asked, cue.grams,
                                store.passages[row]["text"])

    def sentence_sims(self, store: IndexStore, row: int, qvec, uq) -> tuple[list, list[str], np.ndarray | None]:
        """A passage's sentence spans, their texts (NFKC, lower-case) and their similarity to the
        question (e5's, else the second model's; None when the index has neither)."""
        spans, texts, _ = store.sentence_view(row)
        for q, e5 in ((qvec, True), (uq, False)):
            found = store.sentence_vectors([row], e5=e5) if q is not None and spans else None
            if found is not None and int(found[1][0]) == len(spans):
                return spans, texts, found[0] @ q
        return spans, texts, None


class Where:
    """The region and date filters of a search, checked when it starts (ValueError for an unknown
    region or a malformed date)."""

    def __init__(self, regions=None, since=None, until=None):
        if regions is not None and (isinstance(regions, (str, bytes)) or not all(isinstance(r, str) for r in regions)):
            raise TypeError(f"regions must be a list of place names, not {regions!r}")
        self.regions = metadata.resolve_regions(regions) if regions else None
        self.since = metadata.parse_bound(since)
        self.until = metadata.parse_bound(until, end=True)
        if self.since and self.until and self.since > self.until:
            raise ValueError(Msg("filter.order", "since ({since}) is after until ({until})",
                                 "起始日期（{since}）晚于截止日期（{until}）", since=since, until=until))

    def __bool__(self) -> bool:
        return bool(self.regions or self.since or self.until)

    def keeps(self, p: dict) -> bool:
        if self.regions and not metadata.in_regions(p.get("region_codes") or [], self.regions):
            return False
        if (self.since or self.until) and not metadata.in_dates(p.get("date") or "", self.since, self.until):
            return False
        return True


def filter_rows(store: IndexStore, sources: list[str] | None, where: "Where | None") -> np.ndarray | None:
    """The rows a search may return: of these files (``store.rows_of``), about these regions,
    within these dates; None when nothing is filtered."""
    rows = store.rows_of(sources) if sources else None
    if not where:
        return rows
    pool = range(len(store.passages)) if rows is None else rows.tolist()
    return np.asarray([i for i in pool if where.keeps(store.passages[i])], dtype=np.int64)


WORD_BRIDGE_MIN = 0.75  # cosine of an English word to a corpus term (USE) to count as its translation
WORD_BRIDGE_TOP = 2


def map_words_each(word_vectors: np.ndarray, store: IndexStore) -> list[list[str]]:
    """For each English word, the corpus terms nearest to it (second model) above
    ``WORD_BRIDGE_MIN``: "collaborative" -> 合作, 协作.  Derived from the corpus vocabulary."""
    if not len(word_vectors) or store.term_vectors is None or not len(store.terms):
        return [[] for _ in word_vectors]
    terms = np.asarray(store.term_vectors)
    top = min(WORD_BRIDGE_TOP, len(terms))
    out: list[list[str]] = []
    for w in word_vectors:
        row = terms @ w  # one product per word: a (words x terms) GEMM this thin is slower here
        best = np.argpartition(-row, top - 1)[:top]
        out.append([store.terms[j] for j in best[np.argsort(-row[best], kind="stable")] if row[j] >= WORD_BRIDGE_MIN])
    return out
