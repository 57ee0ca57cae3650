"""Store stage, the interface: what retrieval asks of an index, and where an index lives.

Two stores implement :class:`IndexStore`: the folder (``qa/index/folder.py``: FAISS, bm25s arrays and
JSON in a version folder, the default) and PostgreSQL + pgvector (``qa/index/postgres.py``: the same
index in tables of a database several servers share).  Retrieval (``qa/retrieve/retriever.py``) and the
verdict call only these methods, so a third store (Milvus, OpenSearch...) is one more module
and one more line in :func:`_backend`.

An index is named by ``--index`` / ``index=`` / ``BULLETIN_QA_INDEX``: a folder, or a
``postgresql://`` (or ``postgres://``) URL in any libpq form, a unix-socket host included
(``postgresql://user@/db?host=/run/postgresql``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Hashable


from qa.index.base import BuildReport, IndexStore
from qa.index.folder import StoredIndex, _pointer_key_of, build_index as _build_folder

URL_SCHEMES = ("postgresql://", "postgres://")


def is_database(index) -> bool:
    return isinstance(index, str) and index.strip().lower().startswith(URL_SCHEMES)


def location(index) -> "str | Path":
    """An index argument as the stores take it: a URL stays a string, anything else is a folder."""
    if is_database(index):
        return index.strip()
    return Path(index)


def _backend(index):
    if is_database(index):
        from qa.index import postgres as pgstore

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
    from qa.index.folder import live_version

    return live_version(Path(index)) is not None


def build_index(corpus, index, embedder=None, **options) -> BuildReport:
    if is_database(index):
        from qa.index import postgres_build

        return postgres_build.build_index(corpus, index, embedder, **options)
    return _build_folder(corpus, index, embedder, **options)


def describe(index) -> str:
    """The index as it may be printed: a database URL without its password."""
    backend = _backend(index)
    return backend.describe(index) if backend else os.fspath(index)
