"""Store stage, the interface: what retrieval asks of an index, and where an index lives.

Two stores implement :class:`IndexStore`: the folder (``qa/store.py``: FAISS, bm25s arrays and
JSON in a version folder, the default) and PostgreSQL + pgvector (``qa/pgstore.py``: the same
index in tables of a database several servers share).  Retrieval (``qa/retrieve.py``) and the
verdict call only these methods, so a third store (Milvus, OpenSearch...) is one more module
and one more line in :func:`_backend`.

An index is named by ``--index`` / ``index=`` / ``BULLETIN_QA_INDEX``: a folder, or a
``postgresql://`` (or ``postgres://``) URL in any libpq form, a unix-socket host included
(``postgresql://user@/db?host=/run/postgresql``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Container, Hashable, Protocol, Sequence

import numpy as np

from .store import BuildReport, StoredIndex, _pointer_key_of, build_index as _build_folder

URL_SCHEMES = ("postgresql://", "postgres://")


class IndexStore(Protocol):
    """One loaded version of an index, read-only.  Rows are passage numbers 0..n-1 of the version.

    Data every store keeps in memory: ``manifest`` (model, settings, files), ``passages`` (one
    dict per row: text, source, title, lines, metadata, embed_text), ``bridge`` (pinyin -> corpus
    name terms), ``terms`` / ``term_vectors`` (the word bridge: corpus terms and their second-model
    vectors, or None), ``vocab`` (the lexical vocabulary: ``term in vocab``), ``version`` (its id)."""

    manifest: dict
    passages: Sequence[dict]
    bridge: dict | None
    terms: list[str] | None
    term_vectors: np.ndarray | None

    @property
    def version(self) -> str: ...

    @property
    def vocab(self) -> Container[str]: ...

    @property
    def has_bigram(self) -> bool: ...  # a second lexical list over character bigrams

    @property
    def has_second(self) -> bool: ...  # second-model passage and sentence vectors (an ensemble index)

    def dense(self, qvec: np.ndarray, n: int, rows: np.ndarray | None = None,
              second: bool = False) -> list[tuple[int, float]]:
        """The ``n`` passages nearest ``qvec`` (cosine), best first; ``rows``: only these
        (a filter; exact); ``second``: by the second model's passage vectors."""

    def passage_vectors(self, rows: Sequence[int]) -> np.ndarray:
        """The e5 vectors of these passages, in this order."""

    def lexical(self, weights: dict[str, float], n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """BM25 (jieba tokens, k1 1.5, b 0.75) of a weighted query, the ``n`` best with a score > 0."""

    def bigram_search(self, tokens: list[str], n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """BM25 over character bigrams (a repeated token counts twice), the ``n`` best > 0."""

    def idf(self, term: str) -> float:
        """The term's BM25 idf (0 when no passage has it)."""

    def sentence_vectors(self, rows: Sequence[int], e5: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
        """(the vectors of these passages' sentences, stacked in the rows' order; each row's
        count), e5 ones or the second model's; None when the index has none."""

    def sentence_view(self, row: int) -> tuple[list, list[str], str]:
        """A passage's sentence spans, each sentence and the whole text NFKC + lower-case."""

    def article_text(self, row: int) -> str:
        """The whole article a passage belongs to (NFKC, lower-case)."""

    def mentioned(self, text: str) -> bool:
        """Does any bulletin (titles included) contain ``text``?"""

    def rows_of(self, sources: list[str]) -> np.ndarray:
        """The rows of these files, ascending."""


def is_database(index) -> bool:
    return isinstance(index, str) and index.strip().lower().startswith(URL_SCHEMES)


def location(index) -> "str | Path":
    """An index argument as the stores take it: a URL stays a string, anything else is a folder."""
    if is_database(index):
        return index.strip()
    return Path(index)


def _backend(index):
    if is_database(index):
        from . import pgstore

        return pgstore
    return None


def live_key(index) -> Hashable:
    """Changes when another version goes live (cheap: a folder's CURRENT stat; a database's
    live pointer, read at most every 0.5 s per process)."""
    backend = _backend(index)
    return backend.live_key(index) if backend else _pointer_key_of(Path(index))


def load(index) -> IndexStore:
    """The live version of an index (IndexMissing / IndexDamaged with the repair command)."""
    backend = _backend(index)
    return backend.load(index) if backend else StoredIndex.load(Path(index))


def has_live(index) -> bool:
    backend = _backend(index)
    if backend:
        return backend.has_live(index)
    from .store import live_version

    return live_version(Path(index)) is not None


def build_index(corpus, index, embedder=None, **options) -> BuildReport:
    backend = _backend(index)
    if backend:
        return backend.build_index(corpus, index, embedder, **options)
    return _build_folder(corpus, index, embedder, **options)


def describe(index) -> str:
    """The index as it may be printed: a database URL without its password."""
    backend = _backend(index)
    return backend.describe(index) if backend else os.fspath(index)
