"""Index stage, the shared ground of every store: the interface retrieval asks of an index
(:class:`IndexStore`), the interface a build writes through (:class:`BuildTarget`), the errors,
the build report, and what every store derives from its passages the same way
(:class:`PassageViews`).  The stores: qa/index/folder.py (the default) and qa/index/postgres.py;
which one an index location names: qa/index/stores.py; the build both share: qa/index/build.py."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Container, Protocol, Sequence

import numpy as np

from qa.messages import Msg

from qa.index.vectors import top_k
from qa.text.sentences import sentences
from qa.text.variants import simplified


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

    def article_passages(self, source: str, article: int) -> list[dict]:
        """The passages of one article of a file, in reading order."""
        return self._article_groups.get((source, article), [])

    @cached_property
    def _article_groups(self) -> dict:
        groups: dict[tuple, list[dict]] = {}
        for p in self.passages:
            groups.setdefault((p["source"], p.get("article", 0)), []).append(p)
        return {k: sorted(v, key=lambda p: (p.get("ordinal", 0), p["start_line"])) for k, v in groups.items()}

    def rows_of(self, sources: list[str]) -> np.ndarray:
        """The rows of these files, ascending."""


class BuildTarget(Protocol):
    """Where a build (qa/index/build.py) reads the live version from and writes the new one:
    the folder store's :class:`qa.index.folder.FolderTarget` or PostgreSQL's
    :class:`qa.index.postgres_build.PgTarget`.  The build holds the store's lock while it calls these."""

    def previous(self, rebuild: bool) -> tuple:
        """(manifest, passages, the live store) of the live version, or (None, [], None) when
        ``rebuild`` or when there is none (or it is damaged: nothing damaged is carried over)."""

    def keep(self) -> str:
        """Nothing changed: keep the live version (tidy what killed builds left); its name."""

    def live_dates(self) -> dict[str, str]:
        """Each file's first "added" date, kept by a rebuild from scratch too."""

    def embedding_cache(self) -> "Path | object":
        """Where the embedding cache of this index lives (qa/embed/cache.py)."""

    def lexical(self, texts: list[str]) -> tuple[object, list[str]]:
        """(the store's lexical indexes of these passage texts, the vocabulary)."""

    def write(self, manifest: dict, rows: list[dict], vectors: np.ndarray, lexical, parts: dict) -> str:
        """Write the new version and make it live in one step; its name."""


class IndexDamaged(RuntimeError):
    """The index is damaged; the message names the file and how to repair it."""


class IndexMissing(IndexDamaged):
    """No index has been built yet; the message says how to build it."""


class IndexWriteError(RuntimeError):
    """A build could not write the index (disk full, read-only folder); nothing was switched."""


@dataclass
class BuildReport:
    version: str
    files: int
    passages: int
    embedded_files: list[str] = field(default_factory=list)
    embedded_passages: int = 0
    reused_passages: int = 0
    removed_files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # files read in part (lines that did not decode)
    full_rebuild: bool = False
    unchanged: bool = False  # nothing had changed: the live version was kept, nothing written
    seconds: float = 0.0
    nodes: dict = field(default_factory=dict)  # a Ray build: node id -> {"files": read, "texts": embedded}

    def summary(self) -> Msg:
        removed = Msg("build.removed", ", removed {n} files", "，移除 {n} 个文件", n=len(self.removed_files)) \
            if self.removed_files else ""
        full = Msg("build.full", " (full rebuild)", "（完全重建）") if self.full_rebuild else ""
        unchanged = Msg("build.unchanged", " (nothing changed: the live version is kept)",
                        "（没有变化：保留现有版本，未写入）") if self.unchanged else ""
        skipped = Msg("build.skipped_n", "; skipped {n} files", "；跳过 {n} 个文件", n=len(self.skipped)) \
            if self.skipped else ""
        nodes = "" if not self.nodes else Msg("build.nodes", "; on {n} Ray nodes", "；在 {n} 个 Ray 节点上", n=len(self.nodes)) \
            if len(self.nodes) != 1 else Msg("build.node", "; on 1 Ray node", "；在 1 个 Ray 节点上")
        return Msg("build.summary", "{files} files, {passages} passages; embedded {embedded} passages from {efiles} "
                   "files, reused {reused}{removed}{full}{unchanged}{skipped}{nodes} in {seconds}s",
                   "{files} 个文件，{passages} 个段落；从 {efiles} 个文件向量化了 {embedded} 个段落，复用 {reused} 个"
                   "{removed}{full}{unchanged}{skipped}{nodes}，用时 {seconds} 秒",
                   files=self.files, passages=self.passages, embedded=self.embedded_passages,
                   efiles=len(self.embedded_files), reused=self.reused_passages, removed=removed, full=full,
                   unchanged=unchanged, skipped=skipped, nodes=nodes, seconds=f"{self.seconds:.1f}")


class PassageViews:
    """What every store derives from its ``passages`` list the same way (qa/index/base.py): the
    article texts, "is this mentioned anywhere", the rows of some files, a passage's sentences.
    Made once per loaded version, in memory."""

    passages: list

    @property
    def corpus_text(self) -> str:
        """Every article's title and text, NFKC-normalised and lower-cased, made once per loaded
        index: what "does any bulletin mention X?" is asked of."""
        if self._corpus_text is None:
            self._corpus_text = "\n".join(self._article_texts().values())
        return self._corpus_text

    def mentioned(self, text: str) -> bool:
        """Does any bulletin (title or text) contain ``text`` (compared NFKC-normalised, lower-case)?"""
        return text.lower() in self.corpus_text

    def article_text(self, row: int) -> str:
        """The title and whole text of the article a passage belongs to (NFKC, lower-case)."""
        p = self.passages[row]
        return self._article_texts()[(p["source"], p.get("article", 0))]

    def _article_texts(self) -> dict:
        if self._articles is None:
            parts: dict[tuple, list[str]] = {}
            for p in self.passages:
                key = (p["source"], p.get("article", 0))
                if key not in parts:
                    parts[key] = [p.get("title") or ""]
                parts[key].append(p["text"])  # overlapping passages repeat a little: harmless here
            self._articles = {k: simplified(unicodedata.normalize("NFKC", "\n".join(v))).lower()
                              for k, v in parts.items()}
        return self._articles

    def article_passages(self, source: str, article: int) -> list[dict]:
        """The passages of one article of a file, in reading order."""
        return self._article_groups.get((source, article), [])

    @cached_property
    def _article_groups(self) -> dict:
        groups: dict[tuple, list[dict]] = {}
        for p in self.passages:
            groups.setdefault((p["source"], p.get("article", 0)), []).append(p)
        return {k: sorted(v, key=lambda p: (p.get("ordinal", 0), p["start_line"])) for k, v in groups.items()}

    def rows_of(self, sources: list[str]) -> np.ndarray:
        """The rows of the passages of these files (for a source filter), ascending."""
        if self._by_source is None:
            groups: dict[str, list[int]] = {}
            for i, p in enumerate(self.passages):
                groups.setdefault(p["source"], []).append(i)
            self._by_source = {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}
        parts = [self._by_source[s] for s in set(sources) if s in self._by_source]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def sentence_view(self, row: int) -> tuple[list, list[str], str]:
        """Computed once per row: the passage's sentence spans (as the second model's sentence
        vectors were made), each sentence NFKC-normalised and lower-cased, and the whole text so."""
        out = self._sentences.get(row)
        if out is None:
            text = simplified(self.passages[row]["text"])  # the same spans (qa/text/variants.py)
            spans = sentences(text)
            texts = [unicodedata.normalize("NFKC", text[a:b]).lower() for a, b in spans]
            out = self._sentences[row] = (spans, texts, unicodedata.normalize("NFKC", text).lower())
        return out


def positive_top(scores: np.ndarray, n: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
    """The ``n`` best of a score over every passage (of ``rows`` only, when a filter is set),
    leaving out passages that match nothing."""
    if rows is None:
        rows = np.arange(len(scores))
    else:
        scores = scores[rows]
    return [(i, s) for i, s in top_k(rows, scores, n) if s > 0]
