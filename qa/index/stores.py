"""Store stage, the interface: what retrieval asks of an index, and where an index lives.

Two stores implement :class:`IndexStore`: the folder (``qa/index/folder.py``: FAISS, bm25s arrays and
JSON in a version folder, the default) and PostgreSQL + pgvector (``qa/index/postgres.py``: the same
index in tables of a database several servers share).  Retrieval (``qa/retrieve/retriever.py``) and the
verdict call only these methods, so a third store (Milvus, OpenSearch...) is one more module
and one more branch in :class:`Live` and :func:`build_index`.  :class:`Live` is how a reader
(``qa.Index``) holds an index's live version, loaded again when another goes live.

An index is named by ``--index`` / ``index=`` / ``BULLETIN_QA_INDEX``: a folder, or a
``postgresql://`` (or ``postgres://``) URL in any libpq form, a unix-socket host included
(``postgresql://user@/db?host=/run/postgresql``).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Hashable

from qa.index.base import BuildReport, IndexStore
from qa.settings import Settings, redact
from qa.index.folder import StoredIndex, _pointer_key_of, build_index as _build_folder

URL_SCHEMES = ("postgresql://", "postgres://")


def is_database(index) -> bool:
    return isinstance(index, str) and index.strip().lower().startswith(URL_SCHEMES)


def location(index) -> "str | Path":
    """An index argument as the stores take it: a URL stays a string, anything else is a folder."""
    if is_database(index):
        return index.strip()
    return Path(index)


class Live:
    """An index's live version as this process reads it (``qa.Index`` holds one): ``store`` is the
    version loaded, loaded again when another goes live (a folder: a build renames a new CURRENT
    pointer over the old, a new inode; a database: the live pointer row, read at most every 0.5 s).
    ``settings`` (qa/settings.py): the ANN threshold of a folder's filtered searches, a database's
    ``ef_search``."""

    def __init__(self, index, settings: Settings | None = None):
        self.location = location(index)
        self.settings = settings if settings is not None else Settings()
        self.database = None  # a PostgreSQL index's reader (qa.index.postgres.Database)
        if is_database(self.location):
            from qa.index import postgres as pgstore

            self.database = pgstore.Database(self.location, self.settings.ef_search)
        self._lock = threading.Lock()
        self._loaded: tuple[object, IndexStore] | None = None  # (live key, the version)

    def key(self) -> Hashable:
        """Changes when another version goes live (cheap: a folder's CURRENT stat; a database's
        live pointer, read at most every 0.5 s)."""
        return self.database.live_key() if self.database else _pointer_key_of(self.location)

    def load(self) -> IndexStore:
        """The live version, read now (IndexMissing / IndexDamaged with the repair command)."""
        return self.database.load() if self.database else StoredIndex.load(self.location, settings=self.settings)

    @property
    def store(self) -> IndexStore:
        """The live version, loaded again when its live key changes."""
        key = self.key()
        loaded = self._loaded
        if loaded is None or loaded[0] != key:
            with self._lock:
                key = self.key()
                if self._loaded is None or self._loaded[0] != key:
                    self._loaded = (key, self.load())
                loaded = self._loaded
        return loaded[1]

    def has_live(self) -> bool:
        if self.database:
            return self.database.has_live()
        from qa.index.folder import live_version

        return live_version(self.location) is not None

    def went_live(self) -> None:
        """A build through this reader switched the live version: look again at the next read."""
        if self.database:
            self.database.forget_live()

    def close(self) -> None:
        """Close a database's connections (a folder holds none open)."""
        if self.database:
            self.database.close()

    def describe(self) -> str:
        return describe(self.location)


def load(index, settings: Settings | None = None) -> IndexStore:
    """The live version of an index, read once (tests, scripts; a search reads through a
    :class:`Live`): IndexMissing / IndexDamaged with the repair command.  A database's store keeps
    its own connection while it is used."""
    return Live(index, settings).load()


def build_index(corpus, index, embedder=None, *, live: "Live | None" = None, **options) -> BuildReport:
    """Build ``corpus`` into ``index`` (folder or database; ``options``: qa.index.folder.build_index's).
    ``live``: the reader of the Index that builds, which then sees the new version at once."""
    if is_database(index):
        from qa.index import postgres_build

        report = postgres_build.build_index(corpus, index, embedder, database=live.database if live else None,
                                            **options)
    else:
        report = _build_folder(corpus, index, embedder, **options)
    if live is not None:
        live.went_live()
    return report


def describe(index) -> str:
    """The index as it may be printed: a database URL without its password."""
    if is_database(index):
        from qa.index import postgres as pgstore

        return pgstore.describe(index)
    return redact(os.fspath(index))  # a folder; a libpq keyword string taken for one keeps no password
