"""The index in PostgreSQL + pgvector (qa/index/postgres.py), on a real server: PostgreSQL 16 with
pgvector from the PyPI package ``pgserver``, started by these tests in a tmp folder (unix
socket, no TCP port) and stopped at the end of the session.  Nothing is mocked.

The core of the folder tests on the database: build, search (the same top passages as the
folder), incremental add/change/delete, the filters, the error messages (unreachable server,
no pgvector, no CREATE right, another tool version, a damaged version), SIGKILL mid-build,
two builds at once, and searches from another process while builds switch versions.
The seed corpus is built once per session into a template database; a test that changes the
index gets its own copy (CREATE DATABASE … TEMPLATE, a file copy)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip("psycopg")
pgserver = pytest.importorskip("pgserver")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "corpus"
QUERY = "社会工作专业人才"

from tests.conftest import DEV, build_index, cli_cmd, run_cli  # noqa: E402 - after the skips above

pytestmark = pytest.mark.usefixtures("drop_indexes")


class Server:
    def __init__(self, base: Path):
        self.srv = pgserver.get_server(base, cleanup_mode="stop")
        self.admin_url = self.srv.get_uri()

    def url(self, db: str, user: str = "postgres") -> str:
        return self.srv.get_uri(db).replace("postgres:@", f"{user}:@", 1) if user != "postgres" else self.srv.get_uri(db)

    def admin(self, sql: str, db: str = "postgres", params=None):
        import psycopg

        with psycopg.connect(self.srv.get_uri(db), autocommit=True) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else None

    def new_db(self, template: str | None = None, owner: str | None = None) -> str:
        name = "t_" + uuid.uuid4().hex[:10]
        self.admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
                   + (f" OWNER {owner}" if owner else ""))
        return name


@pytest.fixture(scope="session")
def pg():
    """The server, in a tmp folder of its own (pgserver runs PostgreSQL as its own user when the
    tests run as root, and that user must reach the folder: pytest's tmp folders are 0700)."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="bulletin-qa-pg-"))
    base.chmod(0o755)
    server = Server(base / "data")
    try:
        yield server
    finally:
        server.srv.cleanup()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_seed(pg, tmp_path_factory, embedder):
    """(corpus, template database): the five seed bulletins built once into the database
    ``seed_tpl``, which no test reads (so it can be copied)."""
    corpus = tmp_path_factory.mktemp("pgseed") / "corpus"
    shutil.copytree(SEEDS, corpus)
    pg.admin("CREATE DATABASE seed_tpl")
    build_index(corpus, pg.url("seed_tpl"), embedder)  # its own connections, closed when it ends
    return corpus, "seed_tpl"


@pytest.fixture(scope="session")
def pg_index(pg, pg_seed):
    """A read-only copy of the seed index shared by the tests that only search."""
    corpus, tpl = pg_seed
    return corpus, pg.url(pg.new_db(template=tpl))


@pytest.fixture
def pg_copy(pg, pg_seed, tmp_path):
    """A private copy of the seed corpus and of its database, free to modify."""
    corpus, tpl = pg_seed
    c = tmp_path / "c"
    shutil.copytree(corpus, c)
    return c, pg.url(pg.new_db(template=tpl))


def version_tables(pg, url: str) -> set[str]:
    import psycopg

    from qa.index.postgres import _VERSION_TABLE

    with psycopg.connect(url, autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'bqa\\_v%'")]
    return {m.group(1) for m in map(_VERSION_TABLE.match, names) if m}


def dbname(url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    return conninfo_to_dict(url)["dbname"]


def live(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT version FROM bqa_live").fetchone()[0]


# --------------------------------------------------------------------------- build and search


def test_the_database_holds_the_whole_index(pg_index):
    import psycopg

    from qa.ingest.chunk import chunk_document
    from qa.ingest.read import read_document

    corpus, url = pg_index
    version = live(url)
    passages = sum(len(chunk_document(read_document(f))) for f in sorted(corpus.iterdir()) if f.is_file())
    with psycopg.connect(url, autocommit=True) as conn:
        n = conn.execute(f"SELECT count(*) FROM bqa_{version}_passages").fetchone()[0]
        assert n == passages > 20
        col = conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                           "%s::regclass AND attname = 'embedding'", (f"bqa_{version}_passages",)).fetchone()[0]
        assert col == "vector(384)"
        indexes = [r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s",
                                              (f"bqa_{version}_passages",))]
        assert any("USING hnsw (embedding vector_cosine_ops)" in d for d in indexes), indexes
        for name in ("terms", "bigram_terms", "bridge", "words"):
            assert conn.execute(f"SELECT count(*) FROM bqa_{version}_{name}").fetchone()[0] > 0, name
        manifest = conn.execute("SELECT manifest FROM bqa_versions WHERE version = %s", (version,)).fetchone()[0]
        assert len(manifest["files"]) == 5 and manifest["settings"]["model"]
        assert conn.execute("SELECT count(*) FROM bqa_embeddings").fetchone()[0] >= n  # the embedding cache
        assert conn.execute("SELECT version FROM bqa_schema").fetchone()[0] == 2


def test_bm25_in_sql_equals_the_folder_bm25(pg_index, seed_index):
    """Same jieba tokens, same k1/b: the scores of the SQL BM25 equal bm25s's (float32) ones."""
    from qa.index import stores
    from qa.retrieve.query import understand

    folder, db = stores.load(seed_index[1]), stores.load(pg_index[1])
    for q in ("温州 社工站 服务项目", "甘肃酒泉 持证 社会工作者", "湖北 民政 十四五 规划"):
        weights = understand(q, folder.vocab, folder.bridge).weights
        a, b = folder.lexical(weights, 20), db.lexical(weights, 20)
        assert [r for r, _ in a][:10] == [r for r, _ in b][:10], q
        assert all(abs(x - y) < 1e-3 * max(1, abs(x)) for (_, x), (_, y) in zip(a, b)), q
        from qa.text.tokens import bigrams

        a, b = folder.bigram_search(bigrams(q), 20), db.bigram_search(bigrams(q), 20)
        assert [r for r, _ in a][:10] == [r for r, _ in b][:10], q
    assert folder.idf("社工站") == pytest.approx(db.idf("社工站")) and db.idf("nosuchterm") == 0.0


def full_bm25(docs: list[list[str]], weights: dict[str, float], n: int) -> list[tuple[int, float]]:
    """BM25 as the database computed it before impact-ordered postings: every posting of every
    query term summed (float64, bm25s "lucene", k1 1.5, b 0.75), best first, ties by row."""
    import math
    from collections import Counter

    avg = sum(map(len, docs)) / len(docs)
    counts = [Counter(d) for d in docs]
    df = Counter(t for c in counts for t in c)
    scores = {}
    for row, c in enumerate(counts):
        s = sum(w * math.log(1 + (len(docs) - df[t] + .5) / (df[t] + .5)) * c[t]
                / (c[t] + 1.5 * (1 - .75 + .75 * len(docs[row]) / avg)) for t, w in weights.items() if c[t] and w > 0)
        if s > 0:
            scores[row] = s
    return sorted(scores.items(), key=lambda t: (-t[1], t[0]))[:n]


@pytest.mark.parametrize("first", [1, 3, 512])
def test_impact_ordered_postings_give_the_exact_bm25_top(pg_index, first):
    """The threshold algorithm over impact-ordered postings (qa/index/pg_lexical.py) returns what
    summing every posting returns: the same rows in the same order, the same scores, for the dev
    questions' terms on both token kinds, whether it stops after the first postings of each term
    (``first`` 1 or 3: the cut-off and the forward index at work on the seeds) or reads them whole;
    with a filter too."""
    from collections import Counter

    from qa.index import stores
    from qa.retrieve.query import understand
    from qa.text.tokens import bigrams, tokenize

    db = stores.load(pg_index[1])
    texts = [p["embed_text"] for p in db.passages]
    words = [tokenize(t) or ["<empty>"] for t in texts]
    grams = [bigrams(t) or ["<empty>"] for t in texts]
    questions = [json.loads(line)["q"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    stopped_early = 0  # questions whose bigram top 5 was found before their lists were read whole
    for q in questions:
        weights = {t: w for t, w in understand(q, db.vocab, db.bridge).weights.items() if t in db.vocab}
        for n in (5, 50):
            for prefix, docs, w in (("", words, weights), ("bigram_", grams, Counter(bigrams(q)))):
                want, got = full_bm25(docs, w, n), db._bm25(w, n, None, prefix, first=first)
                assert [r for r, _ in got] == [r for r, _ in want], (q, prefix, n)
                assert all(abs(a - b) < 1e-9 * max(1, a) for (_, a), (_, b) in zip(got, want)), (q, prefix, n)
        rows = [r for r in range(len(texts)) if r % 3]
        want = [(r, s) for r, s in full_bm25(words, weights, len(texts)) if r % 3][:10]
        assert [r for r, _ in db._bm25(weights, 10, rows, "", first=first)] == [r for r, _ in want], q
        stopped_early += first < 512 and read_share(grams, Counter(bigrams(q)), first) < 1
    assert first == 512 or stopped_early >= len(questions) // 2, stopped_early


def read_share(docs, weights, first: int) -> float:
    """The share of the query terms' postings that pg_lexical.top read to find the top 5."""
    from qa.index import pg_lexical

    forward, terms = pg_lexical.inverted(docs)
    lists = {t: row for t, *row in terms if t in weights}
    read = [0]

    def fetch(ts, start, count):
        out = {}
        for t in (t for t in ts if t in lists):
            df, idf, rows, imps = lists[t]
            end = df if count is None else min(df, start + count)
            out[t] = (df, idf, rows[4 * start:4 * end], imps[8 * start:8 * end])
            read[0] += max(0, end - start)
        return out

    def fwd(rows, ts):
        return {r: (len(docs[r]), [forward[r].get(t, 0) for t in ts]) for r in rows}

    avg = sum(map(len, docs)) / len(docs)
    got = pg_lexical.top(weights, 5, avg, len(docs), fetch, fwd, first=first)
    assert [r for r, _ in got] == [r for r, _ in full_bm25(docs, weights, 5)]
    return read[0] / max(1, sum(lists[t][0] for t in lists))


def test_search_answers_the_dev_questions_like_the_folder(pg_index, seed_index):
    from qa import search

    questions = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    differ = {}
    for mode in ("hybrid", "dense", "lexical"):
        for q in questions:
            a = search(q["q"], k=5, mode=mode, index=seed_index[1])
            b = search(q["q"], k=5, mode=mode, index=pg_index[1])
            if (a[0].source, a[0].start_line) != (b[0].source, b[0].start_line):
                differ.setdefault(mode, []).append(q["id"])
            assert a.answered == b.answered, (mode, q["q"])
            if mode == "hybrid":
                assert b[0].answer and b[0].similarity is not None
                assert (b[0].doc_title, b[0].issuer, b[0].date, b[0].citation) == \
                    (a[0].doc_title, a[0].issuer, a[0].date, a[0].citation) or a[0].source != b[0].source
    assert all(len(v) <= 1 for v in differ.values()), differ  # float ties may swap one


def test_cli_search_and_index_take_a_database_url(pg_copy):
    corpus, url = pg_copy
    r = run_cli("search", "甘肃酒泉 certified-worker goal", "-k", "3", "--json", "--index", url)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["answered"] and "酒泉" in out["passages"][0]["text"] + out["passages"][0]["title"]
    r = run_cli("index", "-q", "--corpus", str(corpus), "--index", url)
    assert r.returncode == 0 and "embedded 0 passages" in r.stdout, r.stderr[-2000:]
    assert "password" not in r.stdout and "database " in r.stdout


def test_environment_names_the_database(pg_index, monkeypatch):
    from qa import search

    monkeypatch.setenv("BULLETIN_QA_INDEX", pg_index[1])
    assert search("温州 社工站", k=3)[0].source.startswith("001_")


# --------------------------------------------------------------------------- incremental


def test_incremental_add_change_remove_and_old_versions_dropped(pg, pg_copy, embedder, index_of):
    from qa.index import stores
    from tests.test_core import BULLETIN

    corpus, url = pg_copy
    idx = index_of(url, corpus=corpus)  # builds and searches: the page's way
    assert idx.embedder() is embedder
    first = live(url)
    r = idx.build()  # nothing changed: the live version stays
    assert r.unchanged and r.version == first == live(url) and r.embedded_passages == 0
    assert idx.search("夹竹镇 持证社会工作者", k=3)[0].source != "new.txt"
    (corpus / "new.txt").write_text(BULLETIN, encoding="utf-8")
    r = idx.build()
    assert r.embedded_files == ["new.txt"] and not r.full_rebuild and not r.unchanged
    assert 0 < r.embedded_passages == sum(1 for p in stores.load(url).passages if p["source"] == "new.txt")
    assert idx.search("夹竹镇 持证社会工作者", k=3)[0].source == "new.txt"  # seen at once by the Index that built

    changed = sorted(p.name for p in SEEDS.glob("*.txt"))[0]
    with open(corpus / changed, "a", encoding="utf-8") as f:
        f.write("\n新增段落：夹竹镇新增一处社会工作实训基地。\n")
    r = idx.build()
    assert r.embedded_files == [changed]

    (corpus / "new.txt").unlink()
    r = idx.build()
    assert r.removed_files == ["new.txt"] and r.embedded_passages == 0
    assert all(p.source != "new.txt" for p in idx.search("夹竹镇 持证社会工作者", k=10))
    # the live version and the one before it are kept, older ones dropped
    tables = version_tables(pg, url)
    assert first not in tables and len(tables) == 2, tables

    r = idx.build(rebuild=True)  # from scratch: the cache table serves
    assert r.full_rebuild and r.embedded_files == []
    assert idx.search("夹竹镇 社会工作实训基地", k=3)[0].source == changed


def test_ensemble_index_in_the_database(pg, tmp_path, embedder):
    """--ensemble: the second model's passage vectors (vector(512), HNSW) and sentence vectors
    are stored and searched; a later plain build keeps them and reuses them."""
    from qa import search
    from qa.index import stores

    corpus = tmp_path / "c"
    corpus.mkdir()
    shutil.copy(SEEDS / "003_41b0a890d9bd57ab.txt", corpus)
    url = pg.url(pg.new_db())
    build_index(corpus, url, embedder, ensemble=True)
    store = stores.load(url)
    assert store.has_second and store.manifest["settings"]["ensemble"]
    vecs, counts = store.sentence_vectors(range(len(store.passages)), e5=False)
    assert vecs.shape == (int(counts.sum()), 512) and (counts > 0).all()
    hits = search("甘肃酒泉 certified-worker goal", k=3, index=url)
    assert "use" in hits[0].ranks and "酒泉" in hits[0].title
    r = build_index(corpus, url, embedder)
    assert r.embedded_passages == 0 and stores.load(url).has_second


# --------------------------------------------------------------------------- filters


def test_source_region_and_date_filters(pg_index):
    from qa import search

    _, url = pg_index
    hits = search("社会工作", k=5, index=url, sources=["001_22680c95858fb0a9.txt"])
    assert hits and all(p.source == "001_22680c95858fb0a9.txt" for p in hits)
    # the masthead's publication and the citation fields come back from the jsonb rows as from the folder
    assert all(p.doc_title == "社会工作" and "《社会工作》" in p.citation for p in hits)
    assert all(p.issue == "" and p.issue_date == "" for p in hits)  # the page states neither
    dated = search("社会工作者职业水平证书 人数", k=5, index=url, since="2021-11", until="2021-11")
    assert dated and {(p.date, p.issuer) for p in dated} == {("2021-11-05", "民政部")}  # the press conference's day
    for mode in ("dense", "lexical", "hybrid"):
        hits = search("certified-worker goal 2025", k=5, mode=mode, index=url, regions=["甘肃"])
        assert hits and all(p.region == "甘肃省酒泉市" for p in hits), mode
    assert len(search("社工站", k=5, index=url, since="2024")) == 0  # no seed article is dated after 2021
    with pytest.raises(ValueError):
        search("社工站", k=5, index=url, regions=["Atlantis"])


# --------------------------------------------------------------------------- messages


def test_unreachable_database_is_one_line_with_the_host(tmp_path):
    for url, host in ((f"postgresql://postgres@/postgres?host={tmp_path}", str(tmp_path)),
                      ("postgresql://bqa:secret@127.0.0.1:1/bulletins", "127.0.0.1:1")):
        for args in (("search", "社工站", "--index", url), ("index", "-q", "--corpus", str(tmp_path), "--index", url)):
            r = subprocess.run(cli_cmd(*args), cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert r.returncode == 1, r.stderr[-2000:]
            lines = [x for x in r.stderr.splitlines() if x.strip() and "Warning" not in x and "warn" not in x]
            assert len(lines) == 1 and lines[0].startswith("error: cannot connect to the PostgreSQL"), r.stderr
            assert host in lines[0] and "secret" not in lines[0] and "Traceback" not in r.stderr


def test_missing_extension_and_missing_create_right_say_what_to_do(pg, tmp_path, embedder):
    from qa.index.base import IndexWriteError

    corpus = tmp_path / "c"
    corpus.mkdir()
    shutil.copy(SEEDS / "001_22680c95858fb0a9.txt", corpus)
    pg.admin("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'plain') THEN "
             "CREATE ROLE plain LOGIN; END IF; END $$")
    # a database without the extension, owned by a role that may not create it (not a superuser)
    db = pg.new_db(owner="plain")
    with pytest.raises(IndexWriteError, match=r"CREATE EXTENSION vector") as e:
        build_index(corpus, pg.url(db, "plain"), embedder)
    assert "superuser" in str(e.value) and db in str(e.value)
    # the extension made by a superuser, but no CREATE right on schema public (PostgreSQL 15+'s default)
    db = pg.new_db()
    pg.admin("CREATE EXTENSION vector", db=db)
    with pytest.raises(IndexWriteError, match=r"lacks the CREATE right on schema public") as e:
        build_index(corpus, pg.url(db, "plain"), embedder)
    assert "GRANT CREATE ON SCHEMA public TO plain" in str(e.value)
    pg.admin("GRANT CREATE ON SCHEMA public TO plain", db=db)
    assert build_index(corpus, pg.url(db, "plain"), embedder).passages > 0


def test_no_index_yet_says_how_to_build_it(pg):
    from qa import search
    from qa.index.base import IndexMissing

    url = pg.url(pg.new_db())
    with pytest.raises(IndexMissing, match="bulletin-qa index --index"):
        search("社工站", index=url)


def test_another_tool_version_is_named_with_the_repair_command(pg, pg_copy):
    from qa import search
    from qa.index.base import IndexDamaged

    corpus, url = pg_copy
    pg.admin("UPDATE bqa_schema SET version = 99", db=dbname(url))
    with pytest.raises(IndexDamaged, match=r"another version of bulletin-qa \(schema 99.*--rebuild"):
        search("社工站", index=url)
    r = run_cli("index", "-q", "--corpus", str(corpus), "--index", url)
    assert r.returncode == 1 and "bulletin-qa index --rebuild --index" in r.stderr, r.stderr[-2000:]
    r = run_cli("index", "-q", "--rebuild", "--corpus", str(corpus), "--index", url)
    assert r.returncode == 0, r.stderr[-2000:]
    assert search("温州 社工站", k=3, index=url)[0].source.startswith("001_")


def test_a_damaged_version_names_the_table_and_a_plain_build_repairs_it(pg, pg_copy, embedder):
    from qa import search
    from qa.index.base import IndexDamaged

    corpus, url = pg_copy
    db = dbname(url)
    pg.admin(f"DROP TABLE bqa_{live(url)}_bigram_terms", db=db)
    with pytest.raises(IndexDamaged, match=r"_bigram_terms .*missing.*bulletin-qa index --index"):
        search("社工站", index=url)
    r = build_index(corpus, url, embedder)
    assert r.full_rebuild and r.embedded_files == []  # re-made from the embedding cache table
    assert search("温州 社工站", k=3, index=url)[0].source.startswith("001_")


# --------------------------------------------------------------------------- crashes and concurrency


def grow_corpus(corpus: Path, copies: int) -> None:
    from tests.test_reliability import grow_corpus as grow

    grow(corpus, copies)


def test_sigkill_mid_build_leaves_the_live_version_answering(pg, pg_copy):
    from qa import search
    from qa.index import stores
    from tests.test_reliability import Build

    corpus, url = pg_copy
    old, old_n = live(url), len(stores.load(url).passages)
    grow_corpus(corpus, 8)
    killed = []
    for label, cond in (("embedding (midway)", Build.embedding_midway),
                        ("writing the new version", lambda b: "writing" in b.err)):
        b = Build(corpus, url)
        b.wait_for(lambda: cond(b))
        if b.proc.poll() is None:
            os.kill(b.proc.pid, signal.SIGKILL)
        rc = b.finish()
        if rc == -signal.SIGKILL:
            killed.append(label)
            assert live(url) == old and len(stores.load(url).passages) == old_n
            assert version_tables(pg, url) <= {old} | set(), "a killed build left tables behind"
        else:
            assert rc == 0 and label == "writing the new version", (label, rc, b.err[-2000:])
        assert search(QUERY, k=3, index=url)
    assert killed and killed[0] == "embedding (midway)", killed
    # the dead build's lock went with its connection; the next build resumes from the cache table
    r = build_index(corpus, url, None)
    assert len(r.embedded_files) < 8 or r.embedded_passages < r.passages - old_n
    assert live(url) != old and len(stores.load(url).manifest["files"]) == 13


def test_second_build_is_refused_while_one_runs_and_wait_queues(pg_copy):
    """The folder's contract (tests/test_reliability.py), on the database: its lock is advisory."""
    from tests.test_reliability import second_build_is_refused_and_wait_queues

    second_build_is_refused_and_wait_queues(*pg_copy)


SEARCHER = r"""
import json, os, sys, time
from qa import search
from qa.app.api import Index
url, ready, stop = sys.argv[1], sys.argv[2], sys.argv[3]
n = errors = 0
seen = []
end = time.monotonic() + 300
while time.monotonic() < end and not (os.path.exists(stop) and n >= 500):
    try:
        hits = search("社会工作专业人才", k=3, index=url, mode="lexical")
        assert hits and all(h.text for h in hits)
        v = Index.default(url).store.version
        if not seen or seen[-1][0] != v:
            seen.append((v, time.time()))
    except Exception as e:
        errors += 1
        print(repr(e), file=sys.stderr)
    n += 1
    if n == 1:
        open(ready, "w").close()
print(json.dumps({"searches": n, "errors": errors, "seen": seen}))
"""


def test_searches_from_another_process_during_rebuilds_see_no_error(pg_copy, embedder, tmp_path):
    """Another process searches without a pause while three builds switch versions: no error
    in at least 500 searches, and each new version is seen there within a second."""

    corpus, url = pg_copy
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    proc = subprocess.Popen([sys.executable, "-c", SEARCHER, url, str(ready), str(stop)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 300
        while not ready.exists() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        switched = []
        for _ in range(3):
            build_index(corpus, url, embedder, rebuild=True)
            switched.append((live(url), time.time()))
            time.sleep(1.2)
        stop.touch()
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    report = json.loads(out.strip().splitlines()[-1])
    assert report["errors"] == 0, err[-3000:]
    assert report["searches"] >= 500
    seen = dict((v, t) for v, t in report["seen"])
    for version, at in switched:  # the other process saw every new version within a second
        assert version in seen and seen[version] - at < 1.0, (version, seen, switched)


def test_the_page_lists_a_database_index_and_says_nothing_is_missing(pg_index, index_of):
    """The page's Documents tab and banner read the store through qa/index/base.py, so a database
    index lists its bulletins like a folder (none marked unindexed) and no "no index yet" shows."""
    from qa.app.web import documents, handlers, render
    from qa.index import stores
    from qa.ingest.corpus import Corpus

    corpus, url = pg_index
    docs = documents.list_documents(Corpus(corpus), index_of(url))
    assert {d["file"] for d in docs} == {p.name for p in corpus.iterdir()}
    assert all(d["passages"] > 0 and d["state"] == "indexed" for d in docs), docs
    assert handlers.status_html(index_of(url)) == ""
    assert "postgres:" not in render.missing_index_html(stores.describe(url))  # no password shown


def test_two_pages_share_one_database_while_the_cli_builds(pg_copy, tmp_path):
    """Two `bulletin-qa serve` processes on different ports over one database: both answer, a
    CLI build adds a bulletin while they serve, and each page then finds it and lists it (no
    restart, no error)."""
    from tests.conftest import free_port, page_client, stop_page

    corpus, url = pg_copy
    pages, clients = [], []
    try:
        for n in range(2):
            port = free_port()
            log = open(tmp_path / f"page{n}.log", "wb")
            pages.append((subprocess.Popen(cli_cmd("serve", "--port", str(port), "--corpus", str(corpus),
                                                   "--index", url), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT),
                          log, port))
        for n, (page, _log, port) in enumerate(pages):
            client = page_client(page, port, tmp_path / f"page{n}.log", seconds=180)
            assert client.predict(QUERY, 3, "hybrid", None, api_name="/search")
            clients.append(client)
        (corpus / "xining.txt").write_text("西宁市社工站建设\n青海省西宁市建成乡镇社会工作服务站四十六个。\n",
                                           encoding="utf-8")
        r = subprocess.run(cli_cmd("index", "-q", "--corpus", str(corpus), "--index", url), cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        for client in clients:
            end, found = time.monotonic() + 10, False
            while not found and time.monotonic() < end:
                hits = client.predict("西宁 乡镇社会工作服务站", 3, "hybrid", None, api_name="/search")
                found = bool(hits) and hits[0]["source"] == "xining.txt"
                time.sleep(0.2)
            assert found, hits
            docs = client.predict(api_name="/documents")
            assert any(d.get("file") == "xining.txt" for d in docs), docs
        assert all(page.poll() is None for page, _log, _port in pages)
    finally:
        for page, log, _port in pages:
            stop_page(page, log)
