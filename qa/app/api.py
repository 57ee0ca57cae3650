"""Present stage, Python side: the :class:`Index` object, and ``search()`` / ``build()`` /
``answer()`` over a default one.

    >>> from qa import Index, search, build
    >>> build()                                    # corpus/ -> index/ (incremental)
    >>> for p in search("甘肃酒泉 certified-worker goal", k=3):
    ...     print(p.source, p.title, p.start_line, p.end_line, p.score)
    >>> idx = Index("index/")                      # the same, held: its store, retriever, models
    >>> idx.search("湖北 社会工作专业人才 总量", k=3).answered

Folders default to the project's ``corpus/`` and ``index/``; override them with
arguments or the environment variables ``BULLETIN_QA_CORPUS`` / ``BULLETIN_QA_INDEX``.
The index may be a PostgreSQL database instead: ``index="postgresql://…"`` (qa/index/postgres.py).
"""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import ClassVar

from qa.embed.model import Embedder, UseEmbedder
from qa.generate.llm import answer_from, llm_settings, stream_from
from qa.index import stores
from qa.index.base import BuildReport
from qa.index.build import wants_second_model
from qa.retrieve.results import Passage, Results
from qa.retrieve.retriever import OneBlasThread, Retriever
from qa.retrieve.verdict import judge
from qa.settings import Settings
from qa.text.variants import simplified

PROJECT = Path(__file__).resolve().parents[2]  # the checkout: qa/app/api.py -> ./


def corpus_dir(path: str | os.PathLike | None = None, settings: Settings | None = None) -> Path:
    """The corpus folder: ``path``, else ``settings.corpus``, else the project's corpus/."""
    return Path(path or (settings.corpus if settings is not None else None) or PROJECT / "corpus")


def index_dir(path: str | os.PathLike | None = None, settings: Settings | None = None) -> "Path | str":
    """The index: a folder (a Path), or a PostgreSQL URL (a str, ``postgresql://…``; qa/index/base.py):
    ``path``, else ``settings.index``, else the project's index/."""
    return stores.location(path or (settings.index if settings is not None else None) or PROJECT / "index")


class Index:
    """One index and what searching and building it take, like llm's ``Collection``: where it is
    (``location``: a folder or a PostgreSQL URL), the corpus it is built from, the
    :class:`~qa.settings.Settings` it runs with, its live store (``store``: loaded, and loaded again
    when another version goes live), its retriever and its models.

    ``settings`` default to the environment's, read once when the Index is made (an Index is an
    edge: qa/settings.py); an argument wins over them.  ``embedder``: the model its searches embed
    queries with (default: the one its index was built with); ``retriever_options``: the
    Retriever's (``fusion``, ``lexical_floor``, ``word_bridge``).

    Declared process-wide caches, on the class (docs/architecture.md), and nothing else:

    * ``_models``: each loaded model (e5 by name, backend and device; the second model), so a
      model is loaded once per process and shared by every Index, its builds and its searches;
    * ``_blas``: the guard that keeps numpy's BLAS on one thread while a torch query runs (the
      thread count it sets is the process's);
    * ``_defaults``: the Index behind ``qa.search`` / ``qa.build`` / ``qa.answer``, one per
      location and settings (``forget_defaults`` drops them).
    """

    _models: ClassVar[dict[tuple, object]] = {}
    _models_lock: ClassVar[threading.Lock] = threading.Lock()
    _blas: ClassVar[OneBlasThread] = OneBlasThread()
    _defaults: ClassVar[dict[tuple, "Index"]] = {}
    _defaults_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, index: str | os.PathLike | None = None, *, corpus: str | os.PathLike | None = None,
                 settings: Settings | None = None, embedder: Embedder | None = None, **retriever_options):
        self.settings = settings if settings is not None else Settings.from_env()
        self.location = index_dir(index, self.settings)
        self.corpus = corpus_dir(corpus, self.settings)
        self.live = stores.Live(self.location, self.settings)
        self._embedder = embedder
        self._retriever_options = retriever_options
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Index({self.describe()!r})"

    # ------------------------------------------------------------------ the models

    @classmethod
    def embedder_for(cls, settings: Settings, model: str | None = None, *, device: str | None = None,
                     backend: str | None = None) -> Embedder:
        """The process's one embedder for a model (by name and backend, as an index's model id gives
        them, and device; ``settings`` give what the arguments leave open): builds and searches of
        every Index use the same loaded model."""
        asked = ("asked", model or settings.model or "", device or settings.device or "", backend or "",
                 settings.backend, settings.batch, settings.threads, settings.cache)
        with cls._models_lock:
            if asked not in cls._models:
                e = Embedder(model, device=device, backend=backend, settings=settings)
                cls._models[asked] = cls._models.setdefault(("model", e.model_name, e.backend, e.device), e)
            return cls._models[asked]

    @classmethod
    def second_model(cls, settings: Settings) -> UseEmbedder:
        """The process's one second model (USE): the word bridge of every search and every build."""
        with cls._models_lock:
            if "second" not in cls._models:
                cls._models["second"] = UseEmbedder(cache=settings.cache_dir)
            return cls._models["second"]

    def embedder(self, model: str | None = None, *, device: str | None = None, backend: str | None = None) -> Embedder:
        """This Index's settings' embedder for ``model`` (the process's one: :meth:`embedder_for`)."""
        return self.embedder_for(self.settings, model, device=device, backend=backend)

    def second(self) -> UseEmbedder:
        return self.second_model(self.settings)

    # ------------------------------------------------------------------ the live index

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            with self._lock:
                if self._retriever is None:
                    # the index's model: "...+onnx-int8" in its id names the backend, else torch.  The
                    # class's functions, not this Index's methods: no reference cycle, so an Index
                    # dropped is freed at once (with its loaded store)
                    self._retriever = Retriever(
                        self.live, self._embedder, blas=Index._blas, **self._retriever_options,
                        embedders=functools.partial(Index.embedder_for, self.settings, backend="torch"),
                        second=functools.partial(Index.second_model, self.settings))
        return self._retriever

    @property
    def store(self):
        """The live version (qa.index.base.IndexStore): IndexMissing / IndexDamaged when unreadable."""
        return self.live.store

    def has_live(self) -> bool:
        return self.live.has_live()

    def describe(self) -> str:
        """The index as it may be printed (a database URL without its password)."""
        return stores.describe(self.location)

    def redact(self, text: str) -> str:
        """``text`` as it may be shown or printed: no password of this index's URL or of the
        settings (qa.settings.redact; every error the page and the CLI show goes through it)."""
        return self.settings.redact(str(text), os.fspath(self.location))

    def close(self) -> None:
        """Close what it holds open (a database's connections); it opens them again if used."""
        self.live.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ search, build, answer

    def search(self, query: str, k: int = 5, *, mode: str = "hybrid", sources: list[str] | None = None,
               without: frozenset[str] = frozenset(), regions: list[str] | None = None, since=None, until=None,
               strictness: str = "normal") -> Results:
        """:func:`search` over this index."""
        if sources is not None and (isinstance(sources, (str, bytes)) or not all(isinstance(s, str) for s in sources)):
            raise TypeError(f"sources must be a list of file names, not {sources!r}")
        retriever = self.retriever
        store, hits = retriever.search(query, k, mode=mode, sources=sources, without=frozenset(without),
                                       regions=regions, since=since, until=until)
        out = Results()
        out.best_similarity = hits.best_similarity
        verdict = judge(simplified(query), hits, store, store.manifest["settings"]["model"],
                        synonym=lambda word: retriever.has_synonym(store, word), strictness=strictness,
                        without=frozenset(without))
        out.answered, out.reason = verdict.answered, verdict.reason
        out.listing, out.items = bool(hits.listing), tuple(i + 1 for i in hits.items)
        out.extend(passage_of(store.passages[h.row], h, rank) for rank, h in enumerate(hits, 1))
        return out

    def build(self, corpus: str | os.PathLike | None = None, *, rebuild: bool = False, model: str | None = None,
              ensemble: bool | None = None, progress=None, wait: float | None = 0,
              device: str | None = None) -> BuildReport:
        """:func:`build` into this index, from ``corpus`` (default: the Index's)."""
        second = self.second() if wants_second_model(self.settings) else None
        return stores.build_index(corpus_dir(corpus) if corpus else self.corpus, self.location,
                                  self.embedder(model, device=device), live=self.live, rebuild=rebuild,
                                  ensemble=ensemble, progress=progress, wait=wait, second=second,
                                  settings=self.settings)

    def llm(self, llm=None):
        """``llm``, else the model this Index's settings name (None: no model)."""
        return llm if llm is not None else llm_settings(settings=self.settings)

    def answer(self, query: str, k: int = 5, *, llm=None, stream: bool = False, **search_options):
        """:func:`answer` over this index."""
        return answer_from(query, self.search(query, k, **search_options), llm=self.llm(llm), stream=stream)

    def stream_answer(self, query: str, k: int = 5, *, llm=None, stream: bool = True, **search_options):
        """Partial answers as the model's checked sentences arrive, then the final one (``done``)."""
        yield from stream_from(query, self.search(query, k, **search_options), llm=self.llm(llm), stream=stream)

    # ------------------------------------------------------------------ the default instances

    @classmethod
    def default(cls, index: str | os.PathLike | None = None, settings: Settings | None = None) -> "Index":
        """The Index behind ``qa.search`` / ``qa.build`` / ``qa.answer``: the environment read now,
        one instance per location and settings, kept (with its loaded store) for the next call.
        (The corpus and index settings are left out of the key: the location is in it, and the
        wrappers name the corpus they build.)  ``settings``: given by a wrapper that read them."""
        settings = settings if settings is not None else Settings.from_env()
        location = index_dir(index, settings)
        key = (location if isinstance(location, str) else location.resolve(), settings.replace(corpus=None, index=None))
        with cls._defaults_lock:
            if key not in cls._defaults:
                cls._defaults[key] = cls(location, settings=settings)
            return cls._defaults[key]

    @classmethod
    def defaults(cls) -> list["Index"]:
        with cls._defaults_lock:
            return list(cls._defaults.values())

    @classmethod
    def forget_defaults(cls, keep=()) -> None:
        """Drop the default instances (their loaded stores; a database's connections closed), but
        those in ``keep``; the next call makes them again."""
        keep = {id(i) for i in keep}
        with cls._defaults_lock:
            dropped = [k for k, i in cls._defaults.items() if id(i) not in keep]
            gone = [cls._defaults.pop(k) for k in dropped]
        for i in gone:
            i.close()


def passage_of(row: dict, hit, rank: int) -> Passage:
    """The Passage of a stored row and its hit.  A row of an index built before the masthead was
    read (no "issue" key: its doc_title is a lead headline or the file name) names no
    publication until the next build re-chunks it (METADATA_VERSION; its vectors come from the
    embedding cache)."""
    publication = row.get("doc_title", "") if "issue" in row else ""
    return Passage(row["text"], row["source"], row["title"], row["start_line"], row["end_line"], hit.score,
                   rank, hit.highlight, hit.ranks, row.get("article", 0), hit.similarity,
                   row.get("page_start"), row.get("page_end"), publication or "",
                   row.get("region", ""), row.get("date", ""), row.get("issuer", ""),
                   list(row.get("region_codes") or []), list(getattr(hit, "marks", [])),
                   issue=row.get("issue", ""), issue_date=row.get("issue_date", ""),
                   ocr=bool(row.get("ocr")), boxes=list(row.get("boxes") or []))


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
    point (qa/retrieve/verdict.py); the passages are the same.  The default :class:`Index` of
    ``index`` (``Index.default``) answers.
    """
    return Index.default(index).search(query, k, mode=mode, sources=sources, without=without, regions=regions,
                                       since=since, until=until, strictness=strictness)


def build(corpus: str | os.PathLike | None = None, index: str | os.PathLike | None = None, *,
          rebuild: bool = False, model: str | None = None, ensemble: bool | None = None, progress=None,
          wait: float | None = 0, device: str | None = None) -> BuildReport:
    """(Re)build the index of ``corpus`` into ``index``: only new or changed files are embedded.
    ``ensemble``: also store the second model's passage and sentence vectors (None: keep what
    the index has; see qa.index.folder.build_index).  ``device``: the torch device to embed on
    (default ``BULLETIN_QA_DEVICE``, else cpu)."""
    settings = Settings.from_env()
    return Index.default(index, settings).build(corpus_dir(corpus, settings), rebuild=rebuild, model=model,
                                                ensemble=ensemble, progress=progress, wait=wait, device=device)


def answer(query: str, k: int = 5, *, llm=None, stream: bool = False, index: str | os.PathLike | None = None,
           **search_options):
    """The answer to ``query`` in words: written by the configured model over the ``k`` passages
    :func:`search` finds and checked against them, or the extractive answer (qa/generate/llm.py).
    ``llm``: where the model is (default: the environment; none configured: no request anywhere).
    ``search_options`` go to :func:`search`, whose errors it raises; the model's failures never
    raise, they become the note."""
    return Index.default(index).answer(query, k, llm=llm, stream=stream, **search_options)


def stream_answer(query: str, k: int = 5, *, llm=None, stream: bool = True, index: str | os.PathLike | None = None,
                  **search_options):
    """Partial answers as the model's checked sentences arrive, then the final one (``done``)."""
    yield from Index.default(index).stream_answer(query, k, llm=llm, stream=stream, **search_options)
