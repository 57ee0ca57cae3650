"""Store stage, persistent embedding cache: (model, text) -> vector, kept across versions.

The live index already lends its vectors to the next build when the model is unchanged,
but ``--rebuild``, a chunking change (new passage boundaries, most texts unchanged) or a
damaged live version would re-embed everything.  This cache lives in ``<index>/cache/``
(outside the version folders, so it survives them), one SQLite table (in a PostgreSQL index:
the table ``bqa_embeddings``, qa/index/postgres.py) keyed by

* the model key — the embedder's ``model_id`` (which names the backend: fp32 and int8
  vectors never mix) and its passage prefix;
* sha256 of the exact text the model sees (``embed_text`` for passages, the sentence for
  the second model's sentence vectors).

It is append-only: rows are never rewritten, so a build killed halfway keeps what it had
embedded and the next build resumes from there.  Writers are serialised by the build lock.

:class:`CachedEmbedder` wraps any embedder (``embed_passages``, ``dim``, ``model_id``...):
``lookup`` takes the rows a build would embed and returns those still missing, ``fill``
copies the found vectors into the build's matrix, and every ``embed_passages`` call is
served from the cache first and writes what it had to compute.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CACHE_DIR = "cache"
DB_NAME = "embeddings.sqlite"
_CHUNK = 500  # keys per SELECT ... IN (...)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def vectors_of(rows) -> dict[str, np.ndarray]:
    """(key, dim, float32 bytes) rows of a cache table -> {key: vector}; a row whose bytes do not
    hold ``dim`` floats (a damaged one) is a miss.  Both caches (this file's SQLite, and the
    database's table in qa/index/postgres.py) store vectors so."""
    out: dict[str, np.ndarray] = {}
    for key, dim, blob in rows:
        vec = np.frombuffer(blob, dtype=np.float32)
        if vec.shape[0] == dim:
            out[key] = vec
    return out


class EmbeddingCache:
    """Vectors by (model key, text sha256) in ``<index>/cache/embeddings.sqlite``."""

    def __init__(self, index_dir: Path):
        self.folder = Path(index_dir) / CACHE_DIR
        self.db = None  # None: working without the cache (it cannot be written: disk full, read-only)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.db = self._open()
        except OSError as e:
            log.info("embedding cache unavailable (%s); embedding without it", e)
        except sqlite3.DatabaseError as e:
            if not _damaged(e):  # full disk, read-only, I/O error: not the file's fault, leave it be
                log.info("embedding cache unavailable (%s); embedding without it", e)
                return
            # only an optimisation: set the damaged file aside, start afresh
            stamp = time.strftime("%Y%m%d-%H%M%S")
            log.warning("the embedding cache %s is damaged (%s); moved aside as %s.damaged-%s, starting a new one",
                        self.folder / DB_NAME, e, DB_NAME, stamp)
            for f in self.folder.glob(DB_NAME + "*"):
                if ".damaged-" not in f.name:
                    f.rename(f.with_name(f"{f.name}.damaged-{stamp}"))
            try:
                self.db = self._open()
            except (sqlite3.DatabaseError, OSError) as e2:
                log.info("embedding cache unavailable (%s); embedding without it", e2)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.folder / DB_NAME), timeout=60, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key TEXT NOT NULL, "
                       "dim INTEGER NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (model, key)) WITHOUT ROWID")
            db.execute("SELECT COUNT(*) FROM (SELECT 1 FROM vectors LIMIT 1)").fetchone()
            db.commit()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def get(self, model: str, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        if self.db is None:
            return found
        uniq = list(dict.fromkeys(keys))
        for s in range(0, len(uniq), _CHUNK):
            part = uniq[s:s + _CHUNK]
            try:
                rows = self.db.execute(f"SELECT key, dim, vec FROM vectors WHERE model = ? AND key IN "
                                       f"({','.join('?' * len(part))})", [model, *part]).fetchall()
            except sqlite3.DatabaseError as e:  # damage found while reading: a miss
                log.warning("embedding cache read failed (%s); embedding instead", e)
                rows = []
            found.update(vectors_of(rows))
        return found

    def put(self, model: str, keys: list[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.db is None:
            return
        try:
            self._put(model, keys, vectors)
        except sqlite3.DatabaseError as e:  # a skipped write costs a re-embedding later, nothing else
            if getattr(e, "sqlite_errorcode", None) == SQLITE_FULL:  # the version's write will say it, once
                log.info("embedding cache write failed (%s); continuing without caching", e)
            else:
                log.warning("embedding cache write failed (%s); continuing without caching", e)

    def _put(self, model: str, keys: list[str], vectors: np.ndarray) -> None:
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO vectors (model, key, dim, vec) VALUES (?, ?, ?, ?)",
                                [(model, k, int(v.shape[0]), v.tobytes()) for k, v in zip(keys, vectors)])

    def count(self, model: str | None = None) -> int:
        if self.db is None:
            return 0
        if model is None:
            return self.db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", (model,)).fetchone()[0]

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


SQLITE_FULL, SQLITE_CORRUPT, SQLITE_NOTADB = 13, 11, 26


def _damaged(e: sqlite3.DatabaseError) -> bool:
    """True when SQLite says the file is not a database or is corrupt (not: disk full, read-only)."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)
    return "not a database" in str(e) or "malformed" in str(e)


class CachedEmbedder:
    """An embedder served from :class:`EmbeddingCache` first; other attributes pass through."""

    def __init__(self, inner, where):
        """``where``: an index folder (its ``cache/embeddings.sqlite``), or a cache object with
        ``get(model, keys)`` / ``put(model, keys, vectors)`` (a database's table: qa/index/postgres.py)."""
        self.inner = inner
        self.cache = where if hasattr(where, "get") and hasattr(where, "put") else EmbeddingCache(where)
        prefix = (getattr(inner, "prefixes", None) or {}).get("passage", "")
        self.model_key = f"{inner.model_id}|passage:{prefix}"
        self.hits: dict[int, np.ndarray] = {}  # row -> vector, from lookup()
        self.served = 0  # vectors served from the cache
        self.embedded = 0  # vectors computed by the model

    def __getattr__(self, name):
        return getattr(self.inner, name)

    @property
    def dim(self) -> int:
        for v in self.hits.values():
            return int(v.shape[0])  # known without loading the model
        return int(self.inner.dim)

    def lookup(self, rows: list[dict], todo: list[int], field: str = "embed_text") -> list[int]:
        """Remember the cached vectors of ``rows[i][field]`` for i in ``todo``; return the i still to embed."""
        found, rest = self.find([rows[i][field] for i in todo])
        self.hits.update({todo[j]: v for j, v in found.items()})
        return [todo[j] for j in rest]

    def find(self, texts: list[str]) -> tuple[dict[int, np.ndarray], list[int]]:
        """The cached vectors of ``texts`` (position -> vector) and the positions still to embed,
        longest first (batches of similar length: little padding)."""
        keys = [text_key(t) for t in texts]
        cached = self.cache.get(self.model_key, keys)
        found = {j: cached[k] for j, k in enumerate(keys) if k in cached}
        self.served += len(found)
        rest = [j for j in range(len(texts)) if j not in found]
        return found, sorted(rest, key=lambda j: -len(texts[j]))

    def fill(self, vectors: np.ndarray) -> None:
        """Copy the vectors found by :meth:`lookup` into their rows."""
        for i, v in self.hits.items():
            vectors[i] = v

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        found = self.cache.get(self.model_key, keys)
        miss = [j for j, k in enumerate(keys) if k not in found]
        fresh = None
        if miss:
            fresh = self.inner.embed_passages([texts[j] for j in miss], show_progress=show_progress)
            self.cache.put(self.model_key, [keys[j] for j in miss], fresh)
            self.embedded += len(miss)
        self.served += len(texts) - len(miss)
        dim = fresh.shape[1] if fresh is not None else next(iter(found.values())).shape[0] if found else self.dim
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for j, k in enumerate(keys):
            if k in found:
                out[j] = found[k]
        if miss:
            out[miss] = fresh
        return out
