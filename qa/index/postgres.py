"""Store stage, PostgreSQL + pgvector: the whole index in a database that several servers share.

``--index postgresql://…`` (any libpq URL, a unix-socket ``?host=/dir`` included) puts the index
here instead of a folder; retrieval sees the same :class:`qa.index.base.IndexStore`.  Needs the
``[postgres]`` extra (psycopg 3, pgvector) and the ``vector`` extension in the database.

Tables, in the connection's current schema (``public`` unless the URL sets ``options=-csearch_path=…``)::

    bqa_schema        one row: the schema version of this tool (another one: a message + the repair command)
    bqa_live          one row: the live version id (flipped by the build's last statement, in its transaction)
    bqa_versions      version id -> manifest (jsonb: model, settings, files) and BM25 statistics
    bqa_embeddings    the embedding cache: (model key, sha256 of the text) -> float32 vector (bytea)
    bqa_<v>_passages  row, source, data (jsonb: text, title, lines, metadata), embedding vector(384)
                      with an HNSW index (vector_cosine_ops), [second-model vector], token counts
                      (jieba and bigram: BM25's lengths), each sentence's e5 vectors (bytea), and the
                      forward index: each passage's term counts (jsonb, jieba ``tf`` and bigram ``btf``)
    bqa_<v>_terms     BM25 over jieba tokens: term -> df, idf, and its postings ordered by BM25 impact
                      (rows int32, impacts float64: bytea, stored uncompressed; qa/index/pg_lexical.py)
    bqa_<v>_bigram_terms                           the same over character bigrams
    bqa_<v>_bridge    pinyin -> the corpus's name terms
    bqa_<v>_words     the word bridge: corpus terms and their second-model vectors

A build takes a session advisory lock (a second build waits with ``--wait`` or is refused),
writes every table of its version **and flips bqa_live in one transaction**: readers see the old
version or the new one, a build killed at any moment rolls back and leaves nothing behind, and
the live version keeps answering.  After the switch, versions other than the new and the
previous one (which readers may still be using) are dropped.  BM25 uses the folder store's
parameters (bm25s "lucene": k1 1.5, b 0.75, idf ln(1 + (N - df + .5)/(df + .5))): impacts are
computed at build time, and a query reads each of its terms' impact-ordered postings only as far
as the exact top n needs (qa/index/pg_lexical.py: the threshold algorithm, checked through the
forward index), so a common term's long list costs little at 10^5 passages.
Readers poll the live pointer at most every ``POLL_SECONDS`` and load the new version's passage
rows, vocabulary and bridges into memory; vectors, sentence vectors and postings stay in the
database and are read per query.  A :class:`Database` is one reader of one database (each
thread's connection, the live pointer last seen): ``qa.Index`` holds one, and a build through the
same Index makes its new version seen at once.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import weakref
from collections import Counter

import numpy as np

from qa.index import pg_lexical
from qa.settings import redact, redact_url, url_secrets
from qa.index.base import IndexDamaged, IndexMissing, IndexWriteError, PassageViews

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # bump when the tables change: a database of another version gets a message + the repair command
POLL_SECONDS = 0.5  # a reader looks at the live pointer at most this often
LOCK_KEY = int.from_bytes(hashlib.sha256(b"bulletin-qa build").digest()[:8], "big", signed=True)
MAX_EF_SEARCH = 1000  # pgvector's upper bound of hnsw.ef_search
_TABLES = ("passages", "terms", "bigram_terms", "bridge", "words")
_VERSION_TABLE = re.compile(r"^bqa_(v[0-9a-z_]+?)_(" + "|".join(_TABLES) + r")$")


class DatabaseUnavailable(IndexDamaged):
    """The database cannot be reached (one line: where, and libpq's reason)."""


class DatabaseSetupError(IndexWriteError):
    """The database lacks something a build needs (pgvector, the right to create tables)."""


# --------------------------------------------------------------------------- connections


def _psycopg():
    try:
        import psycopg
        import pgvector.psycopg  # noqa: F401
    except ImportError:
        raise RuntimeError("a postgresql:// index needs the PostgreSQL extra: pip install 'bulletin-qa[postgres]' "
                           "(psycopg 3 and pgvector)") from None
    # psycopg warns when it cannot end a pipeline on a lost connection ("error ignored terminating");
    # the error itself reaches the caller as one line (DatabaseUnavailable)
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    return psycopg


def _params(url: str) -> dict:
    try:
        from psycopg.conninfo import conninfo_to_dict

        return conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - no psycopg, or a malformed URL: psycopg will say so on connect
        return {}


def describe(url: str) -> str:
    """"database bulletins on db.example.org:5432" (never the password)."""
    p = _params(url)
    host = p.get("host") or p.get("hostaddr") or "the default socket"
    port = f":{p['port']}" if p.get("port") else ""
    return f"database {p.get('dbname') or p.get('user') or '(default)'} on {host}{port}"


def safe_url(url: str) -> str:
    """The URL as it may be printed in a command: its password left out (libpq takes it from
    PGPASSWORD or ~/.pgpass); qa.settings.redact_url."""
    return redact_url(url)


def _one_line(e: Exception, url: str = "") -> str:
    """An error of psycopg or libpq on one line, without any password (libpq quotes pieces of a
    malformed URL: ``url``'s password is blanked wherever it shows up)."""
    return redact(" ".join(str(e).split()) or type(e).__name__, *url_secrets(url))


def hosts(url: str) -> list[str]:
    """The hosts of a URL (several: a primary and its read replicas, ``host=a,b``)."""
    p = _params(url)
    return [h for h in (p.get("host") or p.get("hostaddr") or "").split(",") if h] or [""]


def connect(url: str, autocommit: bool = True, write: bool = False):
    """A connection to ``url``; ``write``: to the primary of a multi-host URL (libpq's
    ``target_session_attrs=read-write``), which builds write to."""
    psycopg = _psycopg()
    target = url
    if write and len(hosts(url)) > 1:
        from psycopg.conninfo import make_conninfo

        target = make_conninfo(url, target_session_attrs="read-write")
    try:
        conn = psycopg.connect(target, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as e:
        raise DatabaseUnavailable(f"cannot connect to the PostgreSQL {describe(url)}: {_one_line(e, url)}") from None
    except psycopg.ProgrammingError as e:  # a malformed URL
        raise DatabaseUnavailable(f"cannot use the index URL {safe_url(url)!r}: {_one_line(e, url)}") from None
    return conn


def _pinned(url: str, conn) -> str:
    """``url`` narrowed to the one host ``conn`` reached (its other parameters kept)."""
    from psycopg.conninfo import make_conninfo

    info = conn.info
    extra = {"hostaddr": info.hostaddr} if _params(url).get("hostaddr") else {}
    return make_conninfo(url, host=info.host, port=str(info.port), load_balance_hosts="disable", **extra)


def _register_vector(conn, url: str) -> None:
    from pgvector.psycopg import register_vector

    psycopg = _psycopg()
    try:
        register_vector(conn)
    except psycopg.ProgrammingError:
        raise IndexDamaged(f"the pgvector extension is missing from the PostgreSQL {describe(url)}: "
                           f"{_EXTENSION_HELP}; then {_repair(url)}") from None


_EXTENSION_HELP = ("install pgvector on the database server (Debian/Ubuntu: apt install postgresql-<major>-pgvector; "
                   "macOS: brew install pgvector; others: https://github.com/pgvector/pgvector#installation) and run "
                   "`CREATE EXTENSION vector;` in the database as a superuser")


def _repair(url: str, rebuild: bool = False) -> str:
    return f"run `bulletin-qa index {'--rebuild ' if rebuild else ''}--index '{safe_url(url)}'` to repair it"


class Database:
    """One PostgreSQL index as this process reads it: each thread's connection (autocommit; the
    schema checked, vectors registered, ``hnsw.ef_search`` set to ``ef_search``), and the live
    version id, read from the database at most every POLL_SECONDS.  ``close()`` closes every
    connection it opened (before the database is dropped or copied).

    Read replicas: a URL naming several hosts (``host=primary,replica&load_balance_hosts=random``)
    lets libpq choose one for the first connection; every later connection of this reader goes
    to the same host, so that the live pointer and the tables it names are read from one server
    (a replica lags its primary by its replay delay; two servers could disagree on the live
    version for that long).  Should that host become unreachable, the next connection chooses
    again among all of them.  Builds write to the primary (``connect(write=True)``)."""

    def __init__(self, url: str, ef_search: int = 256):
        self.url = url
        self.ef_search = min(MAX_EF_SEARCH, max(40, int(ef_search)))
        self._local = threading.local()
        self._opened: list = []  # every thread's connection, for close()
        self._lock = threading.Lock()
        self._seen: tuple[float, object] | None = None  # (when, live version)
        self._host: str | None = None  # a multi-host URL narrowed to the host this reader reads from
        weakref.finalize(self, _close_all, self._opened)  # a reader dropped unclosed closes its connections

    def reader(self):
        """This thread's connection (autocommit; the schema checked, vectors registered)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        conn = self._connect()
        try:
            _check_schema(conn, self.url)
            _register_vector(conn, self.url)
            conn.execute(f"SET hnsw.ef_search = {self.ef_search}")
        except BaseException:
            conn.close()
            raise
        conn.ef_search = self.ef_search
        self._local.conn = conn
        with self._lock:
            self._opened[:] = [c for c in self._opened if not c.closed] + [conn]
        return conn

    def _connect(self):
        pinned = self._host
        if pinned is not None:
            try:
                return connect(pinned)
            except DatabaseUnavailable:  # that host is gone: choose again among all
                self._host = None
        conn = connect(self.url)
        if len(hosts(self.url)) > 1:
            self._host = _pinned(self.url, conn)
        return conn

    def close(self) -> None:
        """Close every connection this reader opened (any thread's)."""
        with self._lock:
            opened = list(self._opened)
            self._opened.clear()
        _close_all(opened)
        self._local = threading.local()

    def run(self, fn):
        """``fn(conn)`` on this thread's connection; a connection that broke (server restarted) is
        replaced once; an unreachable server is DatabaseUnavailable."""
        psycopg = _psycopg()
        for attempt in (0, 1):
            conn = self.reader()
            try:
                return fn(conn)
            except psycopg.errors.SerializationFailure:  # a replica cancelled it to replay a build: once more
                if attempt:
                    raise
            except psycopg.OperationalError as e:
                self._local.conn = None
                if not conn.broken and not conn.closed:
                    raise DatabaseUnavailable(f"the PostgreSQL {describe(self.url)} failed a query: "
                                              f"{_one_line(e, self.url)}") from None
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass
                if attempt:
                    raise DatabaseUnavailable(f"lost the connection to the PostgreSQL {describe(self.url)}: "
                                              f"{_one_line(e, self.url)}") from None

    def live_key(self):
        """The live version id, read from the database at most every POLL_SECONDS."""
        now = time.monotonic()
        with self._lock:
            seen = self._seen
            if seen is not None and now - seen[0] < POLL_SECONDS:
                return seen[1]
        version = self.run(_read_live)
        with self._lock:
            self._seen = (now, version)
        return version

    def forget_live(self) -> None:
        """Read the live pointer again at the next search (a build through this reader switched it)."""
        with self._lock:
            self._seen = None

    def has_live(self) -> bool:
        try:
            return self.live_key() is not None
        except IndexDamaged:
            return False

    def load(self) -> "PgStore":
        return self.run(lambda conn: _load(self, conn))


def _close_all(connections: list) -> None:
    for conn in list(connections):
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


def _exists(conn, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]


def _check_schema(conn, url: str) -> None:
    if not _exists(conn, "bqa_schema"):
        raise IndexMissing(f"no index in the PostgreSQL {describe(url)}: run `bulletin-qa index --index "
                           f"'{safe_url(url)}'` to build it")
    row = conn.execute("SELECT version FROM bqa_schema").fetchone()
    if row is None or row[0] != SCHEMA_VERSION:
        raise IndexDamaged(_other_version(url, row[0] if row else None))


def _other_version(url: str, found) -> str:
    return (f"the index in the PostgreSQL {describe(url)} was made by another version of bulletin-qa "
            f"(schema {found}, this one reads {SCHEMA_VERSION}); run `bulletin-qa index --rebuild --index "
            f"'{safe_url(url)}'` to rebuild it with this version (its bqa_ tables are replaced)")


def _t(version: str, name: str) -> str:
    return f"bqa_{version}_{name}"


def _ident(name: str):
    from psycopg import sql

    return sql.Identifier(name)


def _sql(text: str, **tables):
    from psycopg import sql

    return sql.SQL(text).format(**{k: _ident(v) for k, v in tables.items()})


# --------------------------------------------------------------------------- reading


def _read_live(conn) -> str | None:
    if not _exists(conn, "bqa_live"):
        return None
    row = conn.execute("SELECT version FROM bqa_live").fetchone()
    return row[0] if row else None


def _load(db: Database, conn) -> "PgStore":
    """The live version of ``db``'s index, read in one snapshot on ``conn``."""
    url = db.url
    with conn.transaction():  # one snapshot; a build's clean-up waits for it
        version = _read_live(conn)
        if version is None:
            raise IndexMissing(f"no index in the PostgreSQL {describe(url)}: run `bulletin-qa index --index "
                               f"'{safe_url(url)}'` to build it")
        row = conn.execute("SELECT manifest, stats FROM bqa_versions WHERE version = %s", (version,)).fetchone()
        if row is None:
            raise IndexDamaged(f"the live version {version} of the index in the PostgreSQL {describe(url)} has "
                               f"no manifest (bqa_versions); " + _repair(url))
        manifest, stats = row
        names = [_t(version, name) for name in _TABLES]
        present = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                              "AND tablename = ANY(%s)", (names,))}
        for name in names:
            if name not in present:
                raise IndexDamaged(f"the table {name} of the live version of the index in the PostgreSQL "
                                   f"{describe(url)} is missing; " + _repair(url))
        current = _t(version, "passages")
        try:
            passages = [r[0] for r in conn.execute(_sql("SELECT data FROM {t} ORDER BY row", t=current))]
            current = _t(version, "terms")
            idf = dict(conn.execute(_sql("SELECT term, idf FROM {t}", t=current)).fetchall())
            current = _t(version, "bridge")
            bridge = {k: list(v) for k, v in conn.execute(_sql("SELECT pinyin, terms FROM {t}", t=current))}
            current = _t(version, "words")
            words = conn.execute(_sql("SELECT term, vec FROM {t} ORDER BY n", t=current)).fetchall()
            current = _t(version, "bigram_terms")
            conn.execute(_sql("SELECT 1 FROM {t} LIMIT 1", t=current))
        except _psycopg().errors.UndefinedTable:
            raise IndexDamaged(f"the table {current} of the live version of the index in the PostgreSQL "
                               f"{describe(url)} is missing; " + _repair(url)) from None
    if len(passages) != manifest.get("passages"):
        raise IndexDamaged(f"the table {_t(version, 'passages')} in the PostgreSQL {describe(url)} holds "
                           f"{len(passages)} passages, its manifest {manifest.get('passages')}; " + _repair(url))
    terms = term_vectors = None
    if manifest.get("second_model") and words:
        terms = [w for w, _ in words]
        term_vectors = np.stack([np.frombuffer(v, dtype=np.float32) for _, v in words])
    elif manifest.get("second_model"):
        terms, term_vectors = [], np.zeros((0, 0), dtype=np.float32)
    return PgStore(db, version, manifest, stats, passages, idf, bridge, terms, term_vectors)


def _vector(v) -> np.ndarray:
    return np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, dtype=np.float32)


class PgStore(PassageViews):
    """One live version of a PostgreSQL index (qa.index.base.IndexStore)."""

    def __init__(self, db: Database, version, manifest, stats, passages, idf, bridge, terms, term_vectors):
        self.db = db  # the reader it queries through
        self.url = url = db.url  # (url: for the path below)
        self._version = version
        self.manifest = manifest
        self.stats = stats
        self.passages = passages
        self._idf = idf
        self.bridge = bridge
        self.terms = terms
        self.term_vectors = term_vectors
        self.path = f"{safe_url(url)}#{version}"  # a name for caches keyed by the loaded version (app.py)
        self._sentences: dict = {}
        self._by_source = None
        self._articles = None
        self._corpus_text = None
        self._sent_cache: dict[bool, dict[int, np.ndarray]] = {True: {}, False: {}}
        self._cache_lock = threading.Lock()

    @property
    def version(self) -> str:
        return self._version

    @property
    def vocab(self) -> dict:
        return self._idf

    def idf(self, term: str) -> float:
        return float(self._idf.get(term, 0.0))

    @property
    def has_bigram(self) -> bool:
        return self.manifest["settings"].get("lexical", 0) >= 3

    @property
    def has_second(self) -> bool:
        return bool(self.manifest["settings"].get("ensemble"))

    def _table(self, name: str) -> str:
        return _t(self._version, name)

    def _query(self, fn):
        psycopg = _psycopg()
        try:
            return self.db.run(fn)
        except psycopg.errors.UndefinedTable as e:
            self.db.forget_live()
            if self.db.live_key() == self._version:
                raise IndexDamaged(f"a table of the live version of the index in the PostgreSQL {describe(self.url)} "
                                   f"is missing ({_one_line(e)}); " + _repair(self.url)) from None
            raise IndexDamaged(f"the version {self._version} of the index in the PostgreSQL {describe(self.url)} "
                               "was replaced while this search ran; ask again") from None

    def dense(self, qvec, n, rows=None, second=False):
        col = "use_embedding" if second else "embedding"
        q = np.ascontiguousarray(qvec, dtype=np.float32)
        if rows is not None and not len(rows):
            return []

        def run(conn):
            if rows is None:
                if n > getattr(conn, "ef_search", 0):
                    conn.ef_search = min(MAX_EF_SEARCH, n)
                    conn.execute(f"SET hnsw.ef_search = {conn.ef_search}")
                sql = _sql("SELECT row, 1 - ({c} <=> %s) FROM {t} ORDER BY {c} <=> %s LIMIT %s",
                           t=self._table("passages"), c=col)
                return conn.execute(sql, (q, q, n)).fetchall()
            # a filter: exact over the rows (a materialised CTE keeps the planner off the HNSW index)
            sql = _sql("WITH c AS MATERIALIZED (SELECT row, {c} AS v FROM {t} WHERE row = ANY(%s)) "
                       "SELECT row, 1 - (v <=> %s) AS s FROM c ORDER BY v <=> %s, row LIMIT %s",
                       t=self._table("passages"), c=col)
            return conn.execute(sql, ([int(r) for r in rows], q, q, n)).fetchall()

        return [(int(r), float(s)) for r, s in self._query(run)]

    def passage_vectors(self, rows) -> np.ndarray:
        rows = [int(r) for r in rows]
        if not rows:
            return np.zeros((0, int(self.manifest["dim"])), dtype=np.float32)
        got = dict(self._query(lambda conn: conn.execute(
            _sql("SELECT row, embedding FROM {t} WHERE row = ANY(%s)", t=self._table("passages")), (rows,)).fetchall()))
        return np.stack([_vector(got[r]) for r in rows])

    def _bm25(self, weights: dict, n: int, rows, prefix: str, first: int = pg_lexical.FIRST):
        """BM25's top ``n`` over impact-ordered postings (qa/index/pg_lexical.py: exact, reading each
        term's list only as far as needed)."""
        weights = {t: float(w) for t, w in weights.items() if w > 0 and (prefix or t in self._idf)}
        if not weights:
            return []
        terms_table = self._table(prefix + "terms")
        length, counts = ("blen", "btf") if prefix else ("len", "tf")

        def fetch(terms, start, count):
            if count is None:
                sql = _sql("SELECT term, df, idf, rows, imps FROM {t} WHERE term = ANY(%s)", t=terms_table)
                params = (terms,)
            else:
                sql = _sql("SELECT term, df, idf, substring(rows FROM %s FOR %s), substring(imps FROM %s FOR %s) "
                           "FROM {t} WHERE term = ANY(%s)", t=terms_table)
                params = (4 * start + 1, 4 * count, 8 * start + 1, 8 * count, terms)
            got = self._query(lambda conn: conn.execute(sql, params, binary=True).fetchall())
            return {t: (df, idf, bytes(r), bytes(i)) for t, df, idf, r, i in got}

        def forward(rows, terms):
            if not terms:
                return {int(r): (0, []) for r in rows}
            each = ", ".join(["COALESCE((j ->> %s)::int, 0)"] * len(terms))  # (j: each row's counts, read once)
            sql = _sql("SELECT row, dl, ARRAY[" + each + "] FROM (SELECT row, {n} AS dl, {c} || '{{}}'::jsonb AS j "
                       "FROM {t} WHERE row = ANY(%s) OFFSET 0) AS s", t=self._table("passages"), n=length, c=counts)
            got = self._query(lambda conn: conn.execute(sql, (*terms, rows)).fetchall())
            return {int(r): (dl, tfs) for r, dl, tfs in got}

        avg = float(self.stats[f"{prefix}avgdl"]) or 1.0
        return pg_lexical.top(weights, n, avg, len(self.passages), fetch, forward, rows, first)

    def lexical(self, weights, n, rows=None):
        return self._bm25(weights, n, rows, "")

    def bigram_search(self, tokens, n, rows=None):
        return self._bm25(Counter(tokens), n, rows, "bigram_")

    def sentence_vectors(self, rows, e5=True):
        if e5 and not self.manifest["settings"].get("sentences"):
            return None
        if not e5 and not self.has_second:
            return None
        rows = [int(r) for r in rows]
        cache = self._sent_cache[e5]
        missing = [r for r in dict.fromkeys(rows) if r not in cache]
        if missing:
            col = "e5_sent" if e5 else "use_sent"
            got = self._query(lambda conn: conn.execute(
                _sql("SELECT row, {c} FROM {t} WHERE row = ANY(%s)", t=self._table("passages"), c=col),
                (missing,)).fetchall())
            dim = int(self.manifest["dim"]) if e5 else int(self.stats.get("second_dim") or 0)
            with self._cache_lock:
                if len(cache) > 50_000:
                    cache.clear()
                for r, blob in got:
                    cache[int(r)] = np.frombuffer(blob or b"", dtype=np.float32).reshape(-1, dim)
        parts = [cache[r] for r in rows]
        counts = np.asarray([len(p) for p in parts], dtype=np.int64)
        dim = parts[0].shape[1] if parts else int(self.manifest["dim"])
        return (np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.float32)), counts
