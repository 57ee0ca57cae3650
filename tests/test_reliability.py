"""Nothing lost, nothing crashes: builds killed with SIGKILL at several moments, two builds
at once, leftovers of dead builds, and every kind of damaged index file.

Everything is real: `bulletin-qa index` runs in a subprocess with the real models on a
corpus big enough to take several seconds, FAISS files on disk are truncated, the CLI's
exit code and stderr are read.  No timing is asserted: the moments to kill are found by
watching the build's own progress output and the index folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import cli_cmd, run_cli

ROOT = Path(__file__).resolve().parent.parent
QUERY = "社会工作专业人才"


pytestmark = pytest.mark.usefixtures("drop_indexes")


def grow_corpus(corpus: Path, copies: int = 30) -> None:
    """``copies`` edited copies of the seed files: every sentence changes, so they embed anew."""
    seeds = sorted(corpus.glob("*.txt"))
    for n in range(copies):
        src = seeds[n % len(seeds)]
        text = src.read_text(encoding="utf-8").replace("。", f"，第{n + 1}期。")
        (corpus / f"copy{n + 1:02d}_{src.name}").write_text(text, encoding="utf-8")


class Build:
    """`bulletin-qa index` in a subprocess whose progress output is watched."""

    def __init__(self, corpus: Path, index: Path, *extra: str):
        self.proc = subprocess.Popen(cli_cmd("index", "--corpus", str(corpus), "--index", str(index), *extra),
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = ""
        self.out = ""
        self._t = [threading.Thread(target=self._pump, args=(self.proc.stderr, "err"), daemon=True),
                   threading.Thread(target=self._pump, args=(self.proc.stdout, "out"), daemon=True)]
        for t in self._t:
            t.start()

    def _pump(self, stream, attr):
        while True:
            data = stream.read1(4096) if hasattr(stream, "read1") else stream.read(1)
            if not data:
                return
            setattr(self, attr, getattr(self, attr) + data.decode("utf-8", "replace"))

    def wait_for(self, condition, limit: float = 300.0) -> bool:
        """Poll until condition() holds (True) or the process ended (False)."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if condition():
                return True
            if self.proc.poll() is not None:
                return condition()
            time.sleep(0.002)
        raise AssertionError(f"build neither reached the moment nor ended; stderr: {self.err[-2000:]}")

    def embedding_midway(self) -> bool:
        m = re.findall(r"embedding passages:\s*\d+%\|[^|]*\|\s*(\d+)/(\d+)", self.err)
        return bool(m) and 0 < int(m[-1][0]) < int(m[-1][1])

    def finish(self, timeout: float = 600) -> int:
        rc = self.proc.wait(timeout)
        for t in self._t:
            t.join(10)
        return rc


def live(index: Path) -> str:
    return (index / "CURRENT").read_text().strip()


def version_files(index: Path, name: str) -> dict[str, int]:
    return {p.relative_to(index / name).as_posix(): p.stat().st_size
            for p in (index / name).rglob("*") if p.is_file()}


def assert_answers(index: Path) -> None:
    from qa.app.api import search

    hits = search(QUERY, k=3, index=index)
    assert hits and all(h.text and h.source for h in hits)


# --------------------------------------------------------------------------- SIGKILL


def test_sigkill_during_build_keeps_old_index_and_next_run_succeeds(seed_copy, embedder):
    from qa.app.cli import main
    from qa.index.folder import StoredIndex

    corpus, index = seed_copy
    old = live(index)
    old_files = version_files(index, old)
    old_passages = len(StoredIndex.load(index).passages)
    grow_corpus(corpus, copies=8)  # ~100 passages to embed: progress after 64 is "midway"

    moments = {
        "reading files": lambda b: "reading files" in b.err,
        "embedding (midway)": Build.embedding_midway,
        "writing the new version": lambda b: any(p.name.startswith(".tmp-v-") for p in index.iterdir()),
    }
    killed_at = []
    for label, cond in moments.items():
        b = Build(corpus, index)
        reached = b.wait_for(lambda: cond(b))
        if b.proc.poll() is None:
            os.kill(b.proc.pid, signal.SIGKILL)
        rc = b.finish()
        if rc == -signal.SIGKILL:
            killed_at.append(label)
            # the live version is the old one, untouched, and it answers
            assert live(index) == old, label
            assert version_files(index, old) == old_files, label
            assert len(StoredIndex.load(index).passages) == old_passages
        else:
            # the build won the race against the kill (can only happen while writing):
            # then it must have switched to a complete new version
            assert rc == 0 and label == "writing the new version", (label, reached, rc, b.err[-2000:])
            assert len(StoredIndex.load(index).passages) > old_passages
        assert_answers(index)
    print(f"SIGKILL landed at: {killed_at}")  # shown with pytest -s
    assert killed_at[:2] == ["reading files", "embedding (midway)"], killed_at

    # the next run takes the lock (the dead process held it) and builds everything
    assert main(["index", "-q", "--corpus", str(corpus), "--index", str(index)]) == 0
    new = StoredIndex.load(index)
    assert live(index) != old and len(new.manifest["files"]) == 13
    assert len(new.passages) > 2 * old_passages
    assert not [p for p in index.iterdir() if p.name.startswith(".tmp-")], "a dead build's folder was left"
    from qa.app.api import search

    hits = search("第7期 社会工作", k=10, index=index, mode="lexical")
    assert any("第7期" in h.text for h in hits)


# --------------------------------------------------------------------------- two builds


def second_build_is_refused_and_wait_queues(corpus: Path, index) -> None:
    """One build at a time, for any store (``index``: a folder or a database URL): while build A
    runs, build B is refused with the ``--wait`` hint, searches are answered, and build C with
    ``--wait`` runs after A, on A's result."""
    from qa.index import stores

    a = Build(corpus, index, "--rebuild")
    # "reading files" is printed while the lock is held; all the embedding is still ahead
    assert a.wait_for(lambda: "reading files" in a.err), a.err[-2000:]
    os.kill(a.proc.pid, signal.SIGSTOP)  # A holds the lock and cannot finish meanwhile
    try:
        b = subprocess.run(cli_cmd("index", "--corpus", str(corpus), "--index", str(index)),
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert b.returncode == 1, b.stderr[-2000:]
        assert "another `bulletin-qa index` is building" in b.stderr and "--wait" in b.stderr
        assert "Traceback" not in b.stderr
        assert_answers(index)  # readers are not blocked by a build
        c = Build(corpus, index, "--wait")
    finally:
        os.kill(a.proc.pid, signal.SIGCONT)
    assert a.finish() == 0, a.err[-2000:]
    assert c.finish() == 0, c.err[-2000:]
    # C ran after A, on A's result: nothing left to embed
    assert "embedded 0 passages" in c.out, c.out
    assert len(stores.load(index).manifest["files"]) == 5
    assert_answers(index)


def test_second_build_is_refused_while_one_runs_and_wait_queues(seed_copy):
    second_build_is_refused_and_wait_queues(*seed_copy)


def test_stale_tmp_folders_of_dead_builds_are_cleaned(seed_copy, embedder):
    from tests.conftest import build_index

    corpus, index = seed_copy
    live_before = live(index)
    stale = index / ".tmp-v-20200101-000000-999999-000001"
    stale.mkdir()
    (stale / "passages.jsonl").write_text('{"half": ', encoding="utf-8")
    (corpus / "new.txt").write_text("新增一份简报：青海西宁市建成社区社工站四十个。\n", encoding="utf-8")
    build_index(corpus, index, embedder)
    assert not stale.exists()
    assert live(index) != live_before
    assert_answers(index)


# --------------------------------------------------------------------------- damage


def _truncate(path: Path, keep: int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:keep])


DAMAGE = {
    "dense.faiss truncated": ("dense.faiss", lambda v: _truncate(v / "dense.faiss", 100)),
    "passages.jsonl broken": ("passages.jsonl",
                              lambda v: (v / "passages.jsonl").write_text(
                                  (v / "passages.jsonl").read_text(encoding="utf-8")[:-50], encoding="utf-8")),
    "vectors.npy garbage": ("vectors.npy", lambda v: (v / "vectors.npy").write_bytes(b"\x93NUMPY garbage")),
    "vectors.npy truncated": ("vectors.npy", lambda v: _truncate(v / "vectors.npy", 4000)),
    "manifest other format": ("manifest.json", lambda v: (v / "manifest.json").write_text(
        json.dumps(json.loads((v / "manifest.json").read_text()) | {"format": 99}))),
    "manifest not JSON": ("manifest.json", lambda v: _truncate(v / "manifest.json", 10)),
    "CURRENT -> missing folder": ("CURRENT", lambda v: shutil.rmtree(v)),
    "vectors/passages disagree": ("passages.jsonl", lambda v: (v / "passages.jsonl").write_text(
        "".join((v / "passages.jsonl").read_text(encoding="utf-8").splitlines(True)[:-1]), encoding="utf-8")),
    # issue 11, item 6: damage that was served silently or ended in a traceback / exit 2
    "CURRENT random bytes": ("CURRENT", lambda v: (v.parent / "CURRENT").write_bytes(bytes(range(256))[::7] * 3)),
    "passages.jsonl wrong shape": ("passages.jsonl", lambda v: _same_size_lines(v / "passages.jsonl")),
    "bm25 indices flipped": ("indices.csc.index.npy", lambda v: _flip(v / "bm25" / "indices.csc.index.npy")),
    "bm25 indptr flipped": ("indptr.csc.index.npy", lambda v: _flip(v / "bm25" / "indptr.csc.index.npy")),
    "bm25 data flipped": ("data.csc.index.npy", lambda v: _flip(v / "bm25" / "data.csc.index.npy")),
    "vectors.npy flipped": ("vectors.npy", lambda v: _flip(v / "vectors.npy")),
    "dense.faiss flipped": ("dense.faiss", lambda v: _flip(v / "dense.faiss")),
    "terms.npy flipped": ("terms.npy", lambda v: _flip(v / "terms.npy")),
    "bridge.json deleted": ("bridge.json", lambda v: (v / "bridge.json").unlink()),
}


def _flip(path: Path) -> None:
    """Flip the bits of a few bytes past the header: same size, valid-looking, wrong."""
    data = bytearray(path.read_bytes())
    for i in range(min(len(data) - 1, 200), len(data), max(1, len(data) // 5)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _same_size_lines(path: Path) -> None:
    """Each passage line replaced by valid JSON of the wrong shape (a list, a dict without text)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = [json.dumps([i, "x"]) if i % 2 else json.dumps({"source": 7, "lines": None}) for i in range(len(lines))]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, embedder):
    """One seed bulletin, indexed: rebuilding it takes a few seconds."""
    from tests.conftest import build_index

    base = tmp_path_factory.mktemp("small")
    corpus = base / "corpus"
    corpus.mkdir()
    seed = sorted((ROOT / "corpus").glob("*.txt"))[0]
    shutil.copy(seed, corpus / seed.name)
    build_index(corpus, base / "index", embedder)
    return corpus, base / "index"


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_gives_clear_message_and_plain_index_repairs(small_index, tmp_path, damage, capsys):
    """Every damage: `bulletin-qa search` exits 1 with one line naming the file and the repairing
    command (no traceback); a plain `bulletin-qa index` (no --rebuild) repairs it."""
    from qa.app.cli import main

    corpus, index = tmp_path / "c", tmp_path / "i"
    shutil.copytree(small_index[0], corpus)
    shutil.copytree(small_index[1], index)
    fname, hurt = DAMAGE[damage]
    hurt(index / live(index))
    r = subprocess.run(cli_cmd("search", QUERY, "--index", str(index)), cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    msg = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(msg) == 1, r.stderr[-2000:]
    assert fname in msg[0] and f"bulletin-qa index --index {index}" in msg[0], msg[0]
    assert r.stdout == ""

    assert main(["index", "-q", "--corpus", str(corpus), "--index", str(index)]) == 0
    capsys.readouterr()
    assert main(["search", QUERY, "--json", "--index", str(index)]) == 0
    hits = json.loads(capsys.readouterr().out)["passages"]
    assert hits and hits[0]["source"].endswith(".txt")


# --------------------------------------------------------------------------- known gaps (fixes proposed)


def test_stale_current_pointer_temp_is_cleaned(small_index, tmp_path, embedder):
    from tests.conftest import build_index

    corpus, index = tmp_path / "c", tmp_path / "i"
    shutil.copytree(small_index[0], corpus)
    shutil.copytree(small_index[1], index)
    stale = index / ".CURRENT.999999"
    stale.write_text("v-half")
    build_index(corpus, index, embedder)
    assert not stale.exists()


def test_unsupported_files_are_reported_not_silently_ignored(small_index, tmp_path, embedder):
    from tests.conftest import build_index

    corpus, index = tmp_path / "c", tmp_path / "i"
    shutil.copytree(small_index[0], corpus)
    shutil.copytree(small_index[1], index)
    (corpus / "旧格式表格.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    report = build_index(corpus, index, embedder)
    assert any("旧格式表格.xls" in s and "unsupported" in s for s in report.skipped)


def test_damaged_embedding_cache_does_not_stop_rebuild(small_index, tmp_path):
    corpus, index = tmp_path / "c", tmp_path / "i"
    shutil.copytree(small_index[0], corpus)
    shutil.copytree(small_index[1], index)
    db = index / "cache" / "embeddings.sqlite"
    assert db.exists(), "the build keeps an embedding cache"
    for f in db.parent.glob(db.name + "*"):  # the db and its -wal/-shm companions
        f.unlink()
    db.write_bytes(bytes(range(256)) * 16)  # 4 KiB that are not SQLite
    r = run_cli("index", "--rebuild", "-q", "--corpus", str(corpus), "--index", str(index))
    assert "Traceback" not in r.stderr
    assert r.returncode == 0, r.stderr[-2000:]
