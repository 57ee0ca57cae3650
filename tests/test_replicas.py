"""The index in PostgreSQL read through a primary and a streaming replica (docs/postgres.md).

The test starts both itself, in a tmp folder: the primary with the PyPI package ``pgserver``
(PostgreSQL 16 + pgvector), the replica with that bundle's own ``pg_basebackup -R`` (a base
backup of the running primary, set up to stream from it) and ``pg_ctl``.  Both listen on unix
sockets only.  Readers get one URL naming both hosts with libpq's ``load_balance_hosts=random``;
builds go through the same URL and reach the primary (``target_session_attrs=read-write``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("psycopg")
pgserver = pytest.importorskip("pgserver")

from tests.conftest import build_index  # noqa: E402 - after the skips above

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "corpus"
pytestmark = pytest.mark.usefixtures("drop_indexes")


class Pair:
    """A primary (pgserver) and a streaming replica of it (pg_basebackup -R, pg_ctl)."""

    def __init__(self, base: Path):
        from pgserver._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.srv = pgserver.get_server(base / "primary", cleanup_mode="stop")
        self.primary = str(self.srv.get_postmaster_info().socket_dir)
        self.user = self.srv.system_user  # PostgreSQL runs as pgserver's own user when the tests run as root
        self.replica_dir = base / "replica"
        self.replica_dir.mkdir(mode=0o700)
        if self.user:
            shutil.chown(self.replica_dir, self.user, self.user)
        self.run("pg_basebackup", "-D", str(self.replica_dir), "-h", self.primary, "-U", "postgres", "-R",
                 "-X", "stream", "-c", "fast")
        for copied in (".s.PGSQL.5432.lock", "log", ".handle_pids.json"):  # the primary's socket lock, log, pids
            (self.replica_dir / copied).unlink(missing_ok=True)
        sockets = base / "replica-socket"
        sockets.mkdir()
        if self.user:
            shutil.chown(sockets, self.user, self.user)
        self.replica = str(sockets)
        self.run("pg_ctl", "-D", str(self.replica_dir), "-w", "-t", "60", "-l", str(self.replica_dir / "log"),
                 "-o", '-h ""', "-o", f"-k {self.replica}", "start")

    def run(self, exe: str, *args: str) -> None:
        subprocess.run([str(self.bin / exe), *args], check=True, capture_output=True, timeout=120,
                       user=self.user)

    def url(self, db: str, *hosts: str) -> str:
        return f"postgresql://postgres@/{db}?host={','.join(hosts)}" + ("&load_balance_hosts=random" if len(hosts) > 1
                                                                        else "")

    def sql(self, host: str, db: str, sql: str):
        import psycopg

        with psycopg.connect(self.url(db, host), autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else None

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "-D", str(self.replica_dir), "-m", "immediate", "stop")
        finally:
            self.srv.cleanup()


@pytest.fixture(scope="module")
def pair():
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="bulletin-qa-pair-"))
    base.chmod(0o755)  # pgserver's user must reach the folders
    p = Pair(base)
    try:
        yield p
    finally:
        p.stop()
        shutil.rmtree(base, ignore_errors=True)


def wait_for(check, seconds: float):
    end = time.monotonic() + seconds
    while True:
        got = check()
        if got or time.monotonic() > end:
            return got
        time.sleep(0.05)


def live_on(pair: Pair, host: str, db: str):
    try:
        rows = pair.sql(host, db, "SELECT version FROM bqa_live")
    except Exception:  # noqa: BLE001 - not replayed yet (no table, or no database)
        return None
    return rows[0][0] if rows else None


def test_the_replica_streams_builds_and_readers_spread_over_both(pair, tmp_path, embedder):
    """A build through the two-host URL writes to the primary; the replica has the new version
    within a few seconds; readers of that URL land on both servers, each reading all of its
    connections from one; a search through the replica alone equals one through the primary."""
    from qa import search
    from qa.app.api import Index
    from qa.index.postgres import hosts

    pair.sql(pair.primary, "postgres", "CREATE DATABASE spread")
    assert pair.sql(pair.replica, "postgres", "SELECT pg_is_in_recovery()")[0][0] is True
    corpus = tmp_path / "c"
    shutil.copytree(SEEDS, corpus)
    both = pair.url("spread", pair.primary, pair.replica)
    assert hosts(both) == [pair.primary, pair.replica]
    build_index(corpus, both, embedder)  # lands on the primary, the only one that takes writes
    version = live_on(pair, pair.primary, "spread")
    assert version and wait_for(lambda: live_on(pair, pair.replica, "spread") == version, 5)

    chosen = set()
    for _ in range(40):  # libpq's random choice: both servers, P(one only) = 2^-39
        with Index(both) as idx:
            assert idx.store.version == version
            chosen.add(dict(p.split("=", 1) for p in idx.live.database._host.split())["host"])
        if len(chosen) == 2:
            break
    assert chosen == {pair.primary, pair.replica}
    q = "甘肃酒泉 持证社会工作者"
    a = search(q, k=3, index=pair.url("spread", pair.primary))
    b = search(q, k=3, index=pair.url("spread", pair.replica))
    assert [(h.source, h.start_line) for h in a] == [(h.source, h.start_line) for h in b]
    assert search(q, k=3, index=both)[0].source == a[0].source


SEARCHER = r"""
import json, os, sys, time
from qa import search
from qa.app.api import Index
url, ready, stop = sys.argv[1], sys.argv[2], sys.argv[3]
readers = []  # qa.search's own Index, and more: each chooses a server at its first connection
while len({r.live.database._host for r in readers}) < 2 and len(readers) < 40:
    readers.append(Index(url))
    readers[-1].store
readers.insert(0, Index.default(url))
n = errors = 0
seen = {}  # (server, version) -> first seen
end = time.monotonic() + 300
while time.monotonic() < end and not (os.path.exists(stop) and n >= 200):
    idx = readers[n % len(readers)]
    try:
        if idx is readers[0]:
            hits = search("社会工作专业人才", k=3, index=url)
        else:
            hits = idx.search("温州 社工站", k=3, mode="lexical" if n % 2 else "hybrid")
        assert hits and all(h.text for h in hits)
        host = dict(p.split("=", 1) for p in idx.live.database._host.split())["host"]
        seen.setdefault(host + " " + idx.store.version, time.time())
    except Exception as e:
        errors += 1
        print(repr(e), file=sys.stderr)
    n += 1
    if n == 1:
        open(ready, "w").close()
print(json.dumps({"searches": n, "errors": errors, "seen": seen}))
"""


def test_search_through_both_during_rebuilds_has_no_error(pair, tmp_path, embedder):
    """Another process searches without a pause through the two-host URL (qa.search, and more
    readers so that both servers are read) while three builds write new versions to the
    primary: no error, and each server shows each new version within a few seconds."""
    pair.sql(pair.primary, "postgres", "CREATE DATABASE busy")
    corpus = tmp_path / "c"
    shutil.copytree(SEEDS, corpus)
    both = pair.url("busy", pair.primary, pair.replica)
    build_index(corpus, both, embedder)
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    proc = subprocess.Popen([sys.executable, "-c", SEARCHER, both, str(ready), str(stop)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        wait_for(lambda: ready.exists() or proc.poll() is not None, 300)
        switched = []
        for _ in range(3):
            build_index(corpus, both, embedder, rebuild=True)
            switched.append((live_on(pair, pair.primary, "busy"), time.time()))
            time.sleep(3)
        stop.touch()
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    report = json.loads(out.strip().splitlines()[-1])
    assert report["errors"] == 0, err[-3000:]
    assert report["searches"] >= 200
    seen = report["seen"]
    assert {k.split()[0] for k in seen} == {pair.primary, pair.replica}, seen
    for version, at in switched:
        for host in (pair.primary, pair.replica):
            first = seen.get(f"{host} {version}")
            assert first is not None and first - at < 3.0, (host, version, seen, switched)
