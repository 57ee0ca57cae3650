"""Present stage, Python side: ``search()`` and ``build()``.

    >>> from qa import search, build
    >>> build()                                    # corpus/ -> index/ (incremental)
    >>> for p in search("甘肃酒泉 certified-worker goal", k=3):
    ...     print(p.source, p.title, p.start_line, p.end_line, p.score)

Folders default to the project's ``corpus/`` and ``index/``; override them with
arguments or the environment variables ``BULLETIN_QA_CORPUS`` / ``BULLETIN_QA_INDEX``.
The index may be a PostgreSQL database instead: ``index="postgresql://…"`` (qa/pgstore.py).
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .embed import Embedder, shared_embedder
from . import settings
from .retrieve import Retriever
from .store import BuildReport
from . import stores
from .stores import build_index
from .verdict import judge

PROJECT = Path(__file__).resolve().parent.parent


def corpus_dir(path: str | os.PathLike | None = None) -> Path:
    return Path(path or settings.value("CORPUS") or PROJECT / "corpus")


def index_dir(path: str | os.PathLike | None = None) -> "Path | str":
    """The index: a folder (a Path), or a PostgreSQL URL (a str, ``postgresql://…``; qa/stores.py)."""
    return stores.location(path or settings.value("INDEX") or PROJECT / "index")


@dataclass
class Passage:
    text: str
    source: str
    title: str
    start_line: int
    end_line: int
    score: float
    rank: int = 0
    highlight: tuple[int, int] | None = None  # character span of the answering sentence in text
    ranks: dict = field(default_factory=dict)  # rank of this passage in each retrieval mode
    article: int = 0
    similarity: float | None = None  # dense cosine of query and passage (None in lexical mode)
    page_start: int | None = None  # PDF pages of the passage
    page_end: int | None = None
    doc_title: str = ""  # the bulletin's name (masthead or lead headline; the file name at worst)
    region: str = ""  # the article's places, full names: 甘肃省酒泉市 ("" = about no region)
    date: str = ""  # YYYY-MM-DD or YYYY-MM, when the article states one
    issuer: str = ""  # the issuing body, when the text states it
    region_codes: list = field(default_factory=list)  # their adcodes

    @property
    def citation(self) -> str:
        where = f"{self.source}, lines {self.start_line}-{self.end_line}"
        if self.page_start is not None:
            pages = self.page_start if self.page_start == self.page_end else f"{self.page_start}-{self.page_end}"
            where = f"{self.source}, p. {pages}, lines {self.start_line}-{self.end_line}"
        return f"{self.title} ({where})" if self.title else where

    @property
    def answer(self) -> str:
        return self.text[self.highlight[0]: self.highlight[1]] if self.highlight else ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["highlight"] = list(self.highlight) if self.highlight else None
        d["answer"] = self.answer
        d["citation"] = self.citation
        return d


_retrievers: dict[Path, Retriever] = {}
_lock = threading.Lock()


def _embedder(model: str | None, device: str | None = None) -> Embedder:
    """The build's embedder: the process's one for this model (qa.embed.shared_embedder), so a
    page that rebuilds and searches holds one copy of it."""
    return shared_embedder(model, device=device)


def get_retriever(index: str | os.PathLike | None = None) -> Retriever:
    path = index_dir(index)
    path = path if isinstance(path, str) else path.resolve()
    with _lock:
        if path not in _retrievers:
            _retrievers[path] = Retriever(path)
    return _retrievers[path]


def search(query: str, k: int = 5, *, mode: str = "hybrid", index: str | os.PathLike | None = None,
           sources: list[str] | None = None, without: frozenset[str] = frozenset(),
           regions: list[str] | None = None, since=None, until=None, strictness: str = "normal") -> "Results":
    """The ``k`` passages that best answer ``query``, best first: a list of :class:`Passage`
    with ``answered`` / ``reason`` (the verdict: whether they answer it, and why not) and
    ``best_similarity`` (the highest dense cosine over all searched passages).

    Raises ``ValueError`` for an empty query or ``k`` outside 1..100, and
    ``qa.store.IndexMissing`` / ``IndexDamaged`` (with the repair command) when the index
    cannot be read.  ``regions`` (湖北, 酒泉市, …: the articles about a place or within it),
    ``since`` / ``until`` ("2024", "2024-03", "2024-03-05" or a date; an article without a
    date is outside a date filter) narrow the search like ``sources``.  ``strictness``
    ("lenient" | "normal" | "strict") moves the verdict's similarity threshold to a measured
    point (qa/verdict.py); the passages are the same.
    """
    if sources is not None and (isinstance(sources, (str, bytes)) or not all(isinstance(s, str) for s in sources)):
        raise TypeError(f"sources must be a list of file names, not {sources!r}")
    retriever = get_retriever(index)
    store, hits = retriever.search(query, k, mode=mode, sources=sources, without=frozenset(without),
                                   regions=regions, since=since, until=until)
    out = Results()
    out.best_similarity = hits.best_similarity
    verdict = judge(query, hits, store, store.manifest["settings"]["model"],
                    synonym=lambda word: retriever.has_synonym(store, word), strictness=strictness)
    out.answered, out.reason = verdict.answered, verdict.reason
    for rank, h in enumerate(hits, 1):
        p = store.passages[h.row]
        out.append(Passage(p["text"], p["source"], p["title"], p["start_line"], p["end_line"], h.score,
                           rank, h.highlight, h.ranks, p.get("article", 0), h.similarity,
                           p.get("page_start"), p.get("page_end"), p.get("doc_title") or p["source"],
                           p.get("region", ""), p.get("date", ""), p.get("issuer", ""),
                           list(p.get("region_codes") or [])))
    return out


class Results(list):
    """Passages, best first, with the verdict: ``answered`` (do they answer the question?) and
    ``reason`` (why not, in a sentence; empty when answered), and ``best_similarity``."""

    best_similarity: float | None = None
    answered: bool = False
    reason: str = ""


def build(corpus: str | os.PathLike | None = None, index: str | os.PathLike | None = None, *,
          rebuild: bool = False, model: str | None = None, ensemble: bool | None = None, progress=None,
          wait: float | None = 0, device: str | None = None) -> BuildReport:
    """(Re)build the index of ``corpus`` into ``index``: only new or changed files are embedded.
    ``ensemble``: also store the second model's passage and sentence vectors (None: keep what
    the index has; see qa.store.build_index).  ``device``: the torch device to embed on
    (default ``BULLETIN_QA_DEVICE``, else cpu)."""
    return build_index(corpus_dir(corpus), index_dir(index), _embedder(model, device), rebuild=rebuild,
                       ensemble=ensemble, progress=progress, wait=wait)
