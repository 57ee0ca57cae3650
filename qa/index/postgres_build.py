"""Index stage: a build into PostgreSQL.  The shared build (qa/index/build.py) runs under a
session advisory lock and writes through :class:`PgTarget`: each version's tables are written
and ``bqa_live`` switched to them in one transaction, so readers see the old version or the new
one, and a build killed at any moment rolls back.  Reading is qa/index/postgres.py."""

from __future__ import annotations

import functools
import json
import logging
import time
from pathlib import Path

import numpy as np

from qa.embed.cache import vectors_of
from qa.embed.model import Embedder
from qa.index import pg_lexical
from qa.index.base import BuildReport, IndexDamaged, IndexMissing, IndexWriteError
from qa.index.build import cluster_for, build_locked, default_second_model
from qa.index.postgres import (connect, Database, DatabaseSetupError, DatabaseUnavailable, describe, _exists, _EXTENSION_HELP,
                               _load, LOCK_KEY, _one_line, _other_version, _psycopg, _read_live,
                               _register_vector, SCHEMA_VERSION, _sql, _t, _TABLES, _vector, _VERSION_TABLE)
from qa.ingest.chunk import CHUNK_OVERLAP, CHUNK_SIZE
from qa.ingest.read import read_document
from qa.settings import Settings
from qa.text.tokens import bigrams, tokenize

log = logging.getLogger(__name__)



def _prepare(conn, url: str, rebuild: bool) -> None:
    """pgvector, the right to create tables, this tool's schema (a database of another schema
    version is replaced only with ``rebuild``)."""
    psycopg = _psycopg()
    user, schema, db = conn.execute("SELECT current_user, current_schema(), current_database()").fetchone()
    if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as e:
            available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
            if not available:
                raise DatabaseSetupError(f"the PostgreSQL server of {describe(url)} has no pgvector extension: "
                                         f"{_EXTENSION_HELP}") from None
            raise DatabaseSetupError(
                f"pgvector is installed on the server but not enabled in database {db}, and the role {user} may "
                f"not enable it ({_one_line(e)}): a superuser runs `CREATE EXTENSION vector;` in {db} once "
                f"(psql -d {db} -c 'CREATE EXTENSION vector')") from None
    if schema is None:
        raise DatabaseSetupError(f"the role {user} has no schema to create tables in ({describe(url)}: no schema "
                                 "of its search_path exists): create one it owns, or set search_path")
    if not conn.execute("SELECT has_schema_privilege(current_schema(), 'CREATE')").fetchone()[0]:
        raise DatabaseSetupError(f"the role {user} lacks the CREATE right on schema {schema} of database {db} "
                                 f"({describe(url)}), needed to create the index's tables: the schema's owner runs "
                                 f"`GRANT CREATE ON SCHEMA {schema} TO {user};` (or point --index at a database "
                                 "where it may create tables)")
    if _exists(conn, "bqa_schema"):
        row = conn.execute("SELECT version FROM bqa_schema").fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            if not rebuild:
                raise IndexDamaged(_other_version(url, row[0] if row else None))
            _drop_all(conn)
    with conn.transaction():
        conn.execute("CREATE TABLE IF NOT EXISTS bqa_schema (id boolean PRIMARY KEY DEFAULT true CHECK (id), "
                     "version integer NOT NULL, made timestamptz NOT NULL DEFAULT now())")
        conn.execute("INSERT INTO bqa_schema (version) VALUES (%s) ON CONFLICT (id) DO NOTHING", (SCHEMA_VERSION,))
        conn.execute("CREATE TABLE IF NOT EXISTS bqa_live (id boolean PRIMARY KEY DEFAULT true CHECK (id), "
                     "version text NOT NULL, switched timestamptz NOT NULL DEFAULT now())")
        conn.execute("CREATE TABLE IF NOT EXISTS bqa_versions (version text PRIMARY KEY, manifest jsonb NOT NULL, "
                     "stats jsonb NOT NULL, created timestamptz NOT NULL DEFAULT now())")
        conn.execute("CREATE TABLE IF NOT EXISTS bqa_embeddings (model text NOT NULL, key text NOT NULL, "
                     "dim integer NOT NULL, vec bytea NOT NULL, PRIMARY KEY (model, key))")


def _drop_all(conn) -> None:
    """Every bqa_ table (a database of another schema version, replaced by --rebuild)."""
    names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                        "AND tablename LIKE 'bqa\\_%'")]
    with conn.transaction():
        for name in names:
            conn.execute(_sql("DROP TABLE IF EXISTS {t} CASCADE", t=name))


def _lock(conn, url: str, wait: float | None) -> None:
    """The build lock: a session advisory lock, released when the build's connection closes
    (also when its process is killed)."""
    if wait is None:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        return
    deadline = time.monotonic() + wait
    while not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
        if time.monotonic() >= deadline:
            raise RuntimeError(f"another `bulletin-qa index` is building the index in the PostgreSQL {describe(url)}; "
                               "wait for it to finish (or pass --wait)")
        time.sleep(0.2)


class PgEmbeddingCache:
    """The embedding cache in the table bqa_embeddings (qa/embed/cache.py's get/put), append-only:
    written on its own connection, so what a killed build embedded is kept."""

    def __init__(self, conn):
        self.conn = conn

    def get(self, model: str, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        uniq = list(dict.fromkeys(keys))
        for s in range(0, len(uniq), 5000):
            rows = self.conn.execute("SELECT key, dim, vec FROM bqa_embeddings WHERE model = %s AND key = ANY(%s)",
                                     (model, uniq[s:s + 5000])).fetchall()
            found.update(vectors_of(rows))
        return found

    def put(self, model: str, keys: list[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self.conn.cursor() as cur:
            cur.executemany("INSERT INTO bqa_embeddings (model, key, dim, vec) VALUES (%s, %s, %s, %s) "
                            "ON CONFLICT DO NOTHING",
                            [(model, k, int(v.shape[0]), v.tobytes()) for k, v in zip(keys, vectors)])


class _Previous:
    """The live version as a build reuses it (what qa.index.build.build_locked reads of the old index)."""

    def __init__(self, manifest, passages, vectors, use_vectors, sent_vectors, terms, term_vectors):
        self.manifest, self.passages, self.vectors = manifest, passages, vectors
        self.use_vectors, self.sent_vectors = use_vectors, sent_vectors
        self.sent_spans = np.asarray([p.get("sent", [0, 0]) for p in passages], dtype=np.int64).reshape(-1, 2)
        self.terms, self.term_vectors = terms, term_vectors


class PgTarget:
    """Where qa.index.build.build_locked reads the live version from and writes the new one: a database."""

    def __init__(self, url: str, conn, cache_conn, database: Database):
        self.url, self.conn, self.cache_conn = url, conn, cache_conn
        self.database = database  # the reader the live version is read through, told of the switch
        self._live = None

    def live(self):
        """(version, manifest) of the live version, or None."""
        if self._live is None:
            version = _read_live(self.conn)
            row = self.conn.execute("SELECT manifest FROM bqa_versions WHERE version = %s",
                                    (version,)).fetchone() if version else None
            self._live = (version, row[0]) if row else (None, None)
        return self._live if self._live[0] else None

    def previous(self, rebuild: bool):
        if rebuild:
            return None, [], None
        try:
            store = _load(self.database, self.conn)  # the primary's live version
            version = store.version
            rows = self.conn.execute(_sql("SELECT embedding, use_embedding, use_sent FROM {t} ORDER BY row",
                                          t=_t(version, "passages"))).fetchall()
        except IndexMissing:
            return None, [], None
        except (IndexDamaged, _psycopg().Error) as e:
            log.warning("ignoring the damaged live index: %s", _one_line(e))
            return None, [], None
        dim = int(store.manifest["dim"])
        vectors = np.stack([_vector(r[0]) for r in rows]) if rows else np.zeros((0, dim), dtype=np.float32)
        use = sent = None
        if store.has_second and rows:
            use = np.stack([_vector(r[1]) for r in rows])
            sdim = use.shape[1]
            sent = np.concatenate([np.frombuffer(r[2] or b"", dtype=np.float32).reshape(-1, sdim) for r in rows])
        return store.manifest, store.passages, _Previous(store.manifest, store.passages, vectors, use, sent,
                                                          store.terms, store.term_vectors)

    def keep(self) -> str:
        """Nothing changed: the live version stays."""
        return self.live()[0]

    def live_dates(self) -> dict[str, str]:
        live = self.live()
        files = live[1].get("files", {}) if live else {}
        return {k: v["added"] for k, v in files.items() if isinstance(v, dict) and isinstance(v.get("added"), str)}

    def live_setting(self, key: str, default):
        live = self.live()
        return live[1].get("settings", {}).get(key, default) if live else default

    def embedding_cache(self):
        return PgEmbeddingCache(self.cache_conn)

    def lexical(self, texts: list[str]):
        words = [tokenize(t) or ["<empty>"] for t in texts]
        grams = [bigrams(t) or ["<empty>"] for t in texts]
        vocab = list(dict.fromkeys(t for doc in words for t in doc))
        return (words, grams), vocab

    def write(self, manifest: dict, rows: list[dict], vectors: np.ndarray, lexical, parts: dict) -> str:
        psycopg = _psycopg()
        from psycopg.types.json import Jsonb

        words, grams = lexical
        version = f"v{time.strftime('%Y%m%d%H%M%S')}_{int(time.time_ns() % 10**9):09d}"
        n = len(rows)
        stats = {"n": n, "avgdl": float(np.mean([len(w) for w in words])) if n else 1.0,
                 "bigram_avgdl": float(np.mean([len(g) for g in grams])) if n else 1.0}
        use = parts.get("use")
        if use is not None:
            stats["second_dim"] = int(use.shape[1])
        manifest = manifest | {"vector_index": "pgvector hnsw (vector_cosine_ops, m=16, ef_construction=64)"}
        conn = self.conn
        t = {name: _t(version, name) for name in _TABLES}
        (forward, terms), (bforward, bterms) = pg_lexical.inverted(words), pg_lexical.inverted(grams)
        try:
            with conn.transaction():
                self._write_passages(conn, t["passages"], rows, vectors, (words, forward), (grams, bforward), parts)
                for prefix, postings in (("", terms), ("bigram_", bterms)):
                    self._terms(conn, t[prefix + "terms"], postings)
                self._write_bridges(conn, t, parts)
                conn.execute("SET LOCAL maintenance_work_mem = '512MB'")  # the HNSW graph of 1e5 vectors in memory
                conn.execute(_sql("CREATE INDEX ON {t} USING hnsw (embedding vector_cosine_ops)", t=t["passages"]))
                if use is not None:
                    conn.execute(_sql("CREATE INDEX ON {t} USING hnsw (use_embedding vector_cosine_ops)",
                                      t=t["passages"]))
                conn.execute(_sql("CREATE INDEX ON {t} (source)", t=t["passages"]))
                for name in _TABLES:
                    conn.execute(_sql("ANALYZE {t}", t=t[name]))
                conn.execute("INSERT INTO bqa_versions (version, manifest, stats) VALUES (%s, %s, %s)",
                             (version, Jsonb(manifest), Jsonb(stats)))
                previous = _read_live(conn)
                # the switch: the last statement of the build's transaction
                conn.execute("INSERT INTO bqa_live (id, version) VALUES (true, %s) ON CONFLICT (id) DO UPDATE "
                             "SET version = EXCLUDED.version, switched = now()", (version,))
        except psycopg.errors.InsufficientPrivilege as e:
            raise DatabaseSetupError(f"cannot write the index in the PostgreSQL {describe(self.url)}: {_one_line(e)}; "
                                     "the live index is unchanged") from None
        except psycopg.OperationalError as e:
            raise IndexWriteError(f"cannot write the index in the PostgreSQL {describe(self.url)} "
                                  f"({_one_line(e)}); the live index is unchanged") from None
        except psycopg.Error as e:
            raise IndexWriteError(f"the PostgreSQL {describe(self.url)} refused the new version ({_one_line(e)}); "
                                  "the live index is unchanged") from None
        self.database.forget_live()  # its reader (the Index that builds) sees the new version at once
        _clean_old(conn, keep={version, previous})
        return version

    @staticmethod
    def _write_passages(conn, table: str, rows, vectors, words, grams, parts: dict) -> None:
        """The passages table: each row's data, e5 vector, second-model vector (ensemble), token
        counts (BM25's lengths), sentence vectors, and its term counts (BM25's forward index).
        ``words`` / ``grams``: (each passage's tokens, each passage's term counts)."""
        from psycopg.types.json import Jsonb

        (words, forward), (grams, bforward) = words, grams
        use, sents, e5 = parts.get("use"), parts.get("sentences"), parts["e5_sentences"]
        use_type = f"vector({int(use.shape[1])})" if use is not None else "vector"
        conn.execute(_sql(f"CREATE TABLE {{t}} (row integer PRIMARY KEY, source text NOT NULL, "
                          f"data jsonb NOT NULL, embedding vector({int(vectors.shape[1])}) NOT NULL, "
                          f"use_embedding {use_type}, len integer NOT NULL, blen integer NOT NULL, "
                          "e5_sent bytea, use_sent bytea, tf jsonb NOT NULL, btf jsonb NOT NULL)", t=table))
        with conn.cursor() as cur, cur.copy(_sql(
                "COPY {t} (row, source, data, embedding, use_embedding, len, blen, e5_sent, use_sent, tf, btf) "
                "FROM STDIN", t=table)) as copy:
            for i, r in enumerate(rows):
                a, c = r.get("esent", [0, 0])
                s_a, s_c = r.get("sent", [0, 0])
                copy.write_row((i, r["source"], Jsonb(r), vectors[i],
                                use[i] if use is not None else None, len(words[i]), len(grams[i]),
                                np.ascontiguousarray(e5[a:a + c], dtype=np.float32).tobytes(),
                                np.ascontiguousarray(sents[s_a:s_a + s_c], dtype=np.float32).tobytes()
                                if sents is not None else None, Jsonb(forward[i]), Jsonb(bforward[i])))

    @staticmethod
    def _write_bridges(conn, t: dict, parts: dict) -> None:
        """The pinyin bridge (pinyin -> corpus names) and the word bridge's terms with their vectors."""
        conn.execute(_sql("CREATE TABLE {t} (pinyin text PRIMARY KEY, terms text[] NOT NULL)", t=t["bridge"]))
        with conn.cursor() as cur, cur.copy(_sql("COPY {t} (pinyin, terms) FROM STDIN", t=t["bridge"])) as copy:
            for k, v in (parts["bridge"] or {}).items():
                copy.write_row((k, list(v)))
        conn.execute(_sql("CREATE TABLE {t} (n integer PRIMARY KEY, term text NOT NULL, vec bytea NOT NULL)",
                          t=t["words"]))
        if parts.get("terms") is not None:
            with conn.cursor() as cur, cur.copy(_sql("COPY {t} (n, term, vec) FROM STDIN", t=t["words"])) as copy:
                for j, (term, vec) in enumerate(zip(parts["terms"], parts["term_vectors"])):
                    copy.write_row((j, term, np.ascontiguousarray(vec, dtype=np.float32).tobytes()))

    @staticmethod
    def _terms(conn, table: str, postings: list) -> None:
        """One row a term: df, idf and its postings ordered by impact (qa/index/pg_lexical.py),
        stored uncompressed so that a query's ``substring`` reads only the chunks of its prefix."""
        conn.execute(_sql("CREATE TABLE {t} (term text PRIMARY KEY, df integer NOT NULL, idf float8 NOT NULL, "
                          "rows bytea NOT NULL, imps bytea NOT NULL)", t=table))
        conn.execute(_sql("ALTER TABLE {t} ALTER COLUMN rows SET STORAGE EXTERNAL, "
                          "ALTER COLUMN imps SET STORAGE EXTERNAL", t=table))
        with conn.cursor() as cur, cur.copy(_sql("COPY {t} (term, df, idf, rows, imps) FROM STDIN", t=table)) as copy:
            for row in postings:
                copy.write_row(row)


def _clean_old(conn, keep: set) -> None:
    """Drop the tables of versions other than ``keep`` (the new one and the one live before it:
    readers may still be using it).  A reader's open transaction makes the drop wait at most
    two seconds; what is left is dropped by the next build."""
    psycopg = _psycopg()
    keep = {k for k in keep if k}
    names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                        "AND tablename LIKE 'bqa\\_v%'")]
    for name in names:
        m = _VERSION_TABLE.match(name)
        if not m or m.group(1) in keep:
            continue
        try:
            with conn.transaction():
                conn.execute("SET LOCAL lock_timeout = '2s'")
                conn.execute(_sql("DROP TABLE IF EXISTS {t}", t=name))
        except psycopg.Error as e:
            log.info("left %s for the next build (%s)", name, _one_line(e))
    try:
        conn.execute("DELETE FROM bqa_versions WHERE version <> ALL(%s)", (list(keep),))
    except psycopg.Error as e:
        log.info("left old manifests for the next build (%s)", _one_line(e))


def build_index(corpus, url: str, embedder: Embedder | None = None, *, rebuild: bool = False, second=...,
                ensemble: bool | None = None, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP,
                progress=None, wait: float | None = 0, settings: Settings | None = None,
                database: Database | None = None) -> BuildReport:
    """qa.index.folder.build_index into a PostgreSQL database (the same arguments).  ``database``:
    the reader of the Index that builds (it then sees the new version at once); None: one of the
    build's own."""
    t0 = time.perf_counter()
    settings = settings if settings is not None else Settings()
    own = database is None
    database = Database(url, settings.ef_search) if own else database
    conn = connect(url, write=True)
    cache_conn = None
    try:
        _lock(conn, url, wait)  # first: a second build is refused before any model loads
        _prepare(conn, url, rebuild)
        _register_vector(conn, url)
        cache_conn = connect(url, write=True)
        target = PgTarget(url, conn, cache_conn, database)
        embedder = embedder or Embedder(settings=settings)
        second = default_second_model(settings) if second is ... else second
        if ensemble is None:
            ensemble = target.live_setting("ensemble", False)
        return build_locked(Path(corpus), target, embedder, second, ensemble, rebuild, chunk_size, chunk_overlap,
                            progress, t0, read=functools.partial(read_document, settings=settings),
                            cluster=cluster_for(settings))
    except _psycopg().Error as e:  # the server went away mid-build (killed, restarted, the network)
        raise DatabaseUnavailable(f"lost the PostgreSQL {describe(url)} during the build: {_one_line(e, url)}; the "
                                  "live index is unchanged, and the next build resumes from what was embedded") from None
    finally:
        if cache_conn is not None:
            cache_conn.close()
        conn.close()  # releases the advisory lock
        if own:
            database.close()


def dump_json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)
