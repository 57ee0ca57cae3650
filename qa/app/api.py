"""Present stage, Python side: ``search()`` and ``build()``.

    >>> from qa import search, build
    >>> build()                                    # corpus/ -> index/ (incremental)
    >>> for p in search("甘肃酒泉 certified-worker goal", k=3):
    ...     print(p.source, p.title, p.start_line, p.end_line, p.score)

Folders default to the project's ``corpus/`` and ``index/``; override them with
arguments or the environment variables ``BULLETIN_QA_CORPUS`` / ``BULLETIN_QA_INDEX``.
The index may be a PostgreSQL database instead: ``index="postgresql://…"`` (qa/index/postgres.py).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from qa.embed.model import Embedder, shared_embedder
from qa import settings
from qa.retrieve.retriever import Retriever
from qa.index.base import BuildReport
from qa.index import stores
from qa.index.stores import build_index
from qa.retrieve.results import Passage, Results
from qa.generate.llm import answer_from, stream_from
from qa.retrieve.verdict import judge

PROJECT = Path(__file__).resolve().parents[2]  # the checkout: qa/app/api.py -> ./


def corpus_dir(path: str | os.PathLike | None = None) -> Path:
    return Path(path or settings.value("CORPUS") or PROJECT / "corpus")


def index_dir(path: str | os.PathLike | None = None) -> "Path | str":
    """The index: a folder (a Path), or a PostgreSQL URL (a str, ``postgresql://…``; qa/index/base.py)."""
    return stores.location(path or settings.value("INDEX") or PROJECT / "index")


_retrievers: dict[Path, Retriever] = {}
_lock = threading.Lock()


def _embedder(model: str | None, device: str | None = None) -> Embedder:
    """The build's embedder: the process's one for this model (qa.embed.model.shared_embedder), so a
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
    ``qa.index.base.IndexMissing`` / ``IndexDamaged`` (with the repair command) when the index
    cannot be read.  ``regions`` (湖北, 酒泉市, …: the articles about a place or within it),
    ``since`` / ``until`` ("2024", "2024-03", "2024-03-05" or a date; an article without a
    date is outside a date filter) narrow the search like ``sources``.  ``strictness``
    ("lenient" | "normal" | "strict") moves the verdict's similarity threshold to a measured
    point (qa/retrieve/verdict.py); the passages are the same.
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


def build(corpus: str | os.PathLike | None = None, index: str | os.PathLike | None = None, *,
          rebuild: bool = False, model: str | None = None, ensemble: bool | None = None, progress=None,
          wait: float | None = 0, device: str | None = None) -> BuildReport:
    """(Re)build the index of ``corpus`` into ``index``: only new or changed files are embedded.
    ``ensemble``: also store the second model's passage and sentence vectors (None: keep what
    the index has; see qa.index.folder.build_index).  ``device``: the torch device to embed on
    (default ``BULLETIN_QA_DEVICE``, else cpu)."""
    return build_index(corpus_dir(corpus), index_dir(index), _embedder(model, device), rebuild=rebuild,
                       ensemble=ensemble, progress=progress, wait=wait)


def answer(query: str, k: int = 5, *, llm=None, stream: bool = False, **search_options):
    """The answer to ``query`` in words: written by the configured model over the ``k`` passages
    :func:`search` finds and checked against them, or the extractive answer (qa/generate/llm.py).
    ``llm``: where the model is (default: the environment; none configured: no request anywhere).
    ``search_options`` go to :func:`search`, whose errors it raises; the model's failures never
    raise, they become the note."""
    return answer_from(query, search(query, k, **search_options), llm=llm, stream=stream)


def stream_answer(query: str, k: int = 5, *, llm=None, stream: bool = True, **search_options):
    """Partial answers as the model's checked sentences arrive, then the final one (``done``)."""
    yield from stream_from(query, search(query, k, **search_options), llm=llm, stream=stream)
