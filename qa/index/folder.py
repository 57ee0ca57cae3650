"""Store stage: passages + vectors -> a FAISS inner-product index and BM25 on disk.

Layout of an index folder::

    index/
      CURRENT            name of the live version (switched with one atomic rename)
      .lock              held while a build runs (a second build waits or refuses)
      v-<time>-<pid>/    one complete version
        manifest.json    model id + weights hash, chunking settings, each corpus file's hash,
                         and the size and sha256 of every file of the version ("checksums")
        passages.jsonl   one passage per line (file, title, lines, text, key)
        vectors.npy      float32 [n, dim], row i = passage i (also the embedding cache)
        dense.faiss      faiss.IndexFlatIP over the vectors
        bm25/            bm25s over jieba tokens
        bigram/          bm25s over character bigrams of the same texts (a second lexical list)

A build reads the live version, re-reads only new or changed files, embeds only
passages whose text (with its title) was not embedded before by the same model, writes
a new version beside the live one and switches ``CURRENT``: a crash leaves the old
version answering, and readers never see a half-written index.

Damage is found by the checksums: on load, every file of the version up to
``FULL_CHECK_BYTES`` is hashed whole, larger ones are checked by size and by the hash of
``SAMPLE_BLOCKS`` blocks spread over the file; a build hashes every file of the live version
whole before it reuses anything from it.  A damaged or missing file raises
:class:`IndexDamaged` naming it and the repairing command; a plain build repairs it (it
ignores the damaged version and re-embeds from the embedding cache).  A build that cannot
write (disk full, read-only folder) removes what it wrote and raises :class:`IndexWriteError`
with one line; the live version is untouched.
"""

from __future__ import annotations

import errno
import functools
import json
import re
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.ingest.chunk import CHUNK_OVERLAP, CHUNK_SIZE
from qa.index.vectors import build_vector_index, describe, nearest
from qa.embed.model import Embedder
from qa.index.bm25 import BM25Index, vocabulary
from qa.text.tokens import bigrams

from qa.index.checksums import _Damage, checksums, verify
from qa.index.base import (BuildReport, IndexDamaged, IndexMissing, IndexWriteError, PassageViews,
                           positive_top)
from qa.index.build import cluster_for, FORMAT_VERSION, build_locked, default_second_model
from qa.ingest.read import read_document
from qa.settings import Settings

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"
_VERSION_NAME = re.compile(r"v-[0-9A-Za-z-]{1,80}")


# --------------------------------------------------------------------------- reading


def _pointer_name(index_dir: Path) -> str | None:
    """The version name CURRENT holds, or None when it is missing or is not a version name
    (damaged: random bytes, a path)."""
    try:
        raw = (Path(index_dir) / "CURRENT").read_bytes()[:200]
    except OSError:
        return None
    try:
        name = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    return name if _VERSION_NAME.fullmatch(name) else None


def live_version(index_dir: Path) -> Path | None:
    name = _pointer_name(index_dir)
    if name is None:
        return None
    path = Path(index_dir) / name
    return path if path.is_dir() else None


def _pointer_key_of(index_dir: Path):
    """Changes when a build switches versions (it renames a new CURRENT over the old: a new inode)."""
    try:
        st = os.stat(os.path.join(index_dir, "CURRENT"))
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def repair_hint(index_dir: Path) -> str:
    return f"run `bulletin-qa index --index {index_dir}` to repair it"


IN_MEMORY_BYTES = 512 * 1024 * 1024  # arrays of a version up to this size together are read into memory


def _load_array(path: Path, budget: list) -> np.ndarray:
    """A version's array, read into memory while ``budget[0]`` (bytes, starting at
    IN_MEMORY_BYTES for a version) lasts, else memory-mapped.  Read into memory, a file
    truncated or rewritten by someone else while the page serves it cannot crash the process
    (a memory-mapped page past the new end raises SIGBUS and kills it); the cost is the file's
    size in resident memory per process instead of shared page cache (docs/figures.md, "Reliability")."""
    size = path.stat().st_size
    if size <= budget[0]:
        budget[0] -= size
        return np.load(path)
    return np.load(path, mmap_mode="r")


_PASSAGE_FIELDS = {"text": str, "source": str, "start_line": int, "end_line": int}


def _check_passages(passages: list) -> None:
    for i, p in enumerate(passages):
        if not isinstance(p, dict) or any(not isinstance(p.get(k), t) or isinstance(p.get(k), bool)
                                          for k, t in _PASSAGE_FIELDS.items()):
            raise ValueError(f"line {i + 1} is not a passage")
        if not isinstance(p.get("title", ""), (str, type(None))):
            raise ValueError(f"line {i + 1} is not a passage (title)")


@dataclass
class StoredIndex(PassageViews):
    """The folder store (one version folder loaded into memory); implements qa.index.base.IndexStore."""

    path: Path
    manifest: dict
    passages: list[dict]
    vectors: np.ndarray
    faiss_index: object
    bm25: BM25Index
    use_vectors: np.ndarray | None = None  # second model, one row per passage
    sent_vectors: np.ndarray | None = None  # second model, one row per sentence
    sent_spans: np.ndarray | None = None  # per passage: [first sentence row, count] (n x 2)
    bridge: dict | None = None  # pinyin -> corpus terms
    terms: list[str] | None = None  # corpus terms with a second-model vector (cross-lingual bridge)
    term_vectors: np.ndarray | None = None
    use_index: object = None  # FAISS index over use_vectors (qa/index/vectors.py)
    e5_sent_vectors: np.ndarray | None = None  # e5, one row per sentence of each passage
    e5_sent_spans: np.ndarray | None = None  # per passage: [first sentence row, count] (n x 2)
    bigram: BM25Index | None = None  # BM25 over character bigrams (qa.index.bm25.bigrams)
    _sentences: dict = field(default_factory=dict, repr=False, compare=False)
    _by_source: dict | None = field(default=None, repr=False, compare=False)
    _articles: dict | None = field(default=None, repr=False, compare=False)
    _corpus_text: str | None = field(default=None, repr=False, compare=False)
    ann_threshold: int = field(default=Settings.ann_threshold, repr=False, compare=False)  # filtered dense search

    # ------------------------------------------------------------ qa.index.base.IndexStore

    @property
    def version(self) -> str:
        return self.path.name

    @property
    def vocab(self) -> dict:
        return self.bm25.retriever.vocab_dict if self.bm25.retriever is not None else {}

    def idf(self, term: str) -> float:
        return self.bm25.idf(term)

    @property
    def has_bigram(self) -> bool:
        return self.bigram is not None

    @property
    def has_second(self) -> bool:
        return self.use_vectors is not None

    def dense(self, qvec: np.ndarray, n: int, rows: np.ndarray | None = None, second: bool = False):
        if second:
            return nearest(self.use_index, self.use_vectors, qvec, n, rows, self.ann_threshold)
        return nearest(self.faiss_index, self.vectors, qvec, n, rows, self.ann_threshold)

    def passage_vectors(self, rows) -> np.ndarray:
        return np.asarray(self.vectors)[list(rows)]

    def lexical(self, weights: dict[str, float], n: int, rows: np.ndarray | None = None):
        return positive_top(self.bm25.weighted_scores(weights, len(self.passages)), n, rows)

    def bigram_search(self, tokens: list[str], n: int, rows: np.ndarray | None = None):
        return positive_top(self.bigram.scores(tokens, len(self.passages)), n, rows)

    def sentence_vectors(self, rows, e5: bool = True):
        """(vectors of the rows' sentences, stacked in the rows' order; each row's count), or
        None when the index has no such sentence vectors."""
        vectors, spans = (self.e5_sent_vectors, self.e5_sent_spans) if e5 else (self.sent_vectors, self.sent_spans)
        if vectors is None or spans is None:
            return None
        rows = np.asarray(rows, dtype=np.int64)
        spans = spans[rows]
        first, count = spans[:, 0], spans[:, 1]
        starts = np.cumsum(count) - count
        gather = np.repeat(first - starts, count) + np.arange(int(count.sum()))
        return np.asarray(vectors)[gather], count

    @classmethod
    def load(cls, index_dir: Path, full_check: bool = False, settings: Settings | None = None) -> "StoredIndex":
        """The live version of ``index_dir``, its files checked against the manifest's checksums
        (``full_check``: every file hashed whole, as a build does before reusing it); ``settings``:
        the ANN threshold its filtered searches use (default ``Settings()``'s)."""
        index_dir = Path(index_dir)
        path = _live_or_raise(index_dir)
        r = _VersionReader(path)
        try:
            parts = r.read_all(full_check)
        except Exception as e:  # noqa: BLE001 - any damage becomes one clear message
            what = str(e) if isinstance(e, _Damage) else f"is damaged ({type(e).__name__}: {e})"
            raise IndexDamaged(f"the index file {r.current} {what}; " + repair_hint(index_dir)) from e
        spans, e5_spans = _check_consistent(path, parts, index_dir)
        return cls(path, parts["manifest"], parts["passages"], parts["vectors"], parts["fi"], parts["bm25"],
                   parts["use"], parts["sent"], spans, parts["bridge"], parts["terms"], parts["term_vectors"],
                   use_index=parts["use_index"], e5_sent_vectors=parts["e5_sent"], e5_sent_spans=e5_spans,
                   bigram=parts["bigram"],
                   ann_threshold=(settings if settings is not None else Settings()).ann_threshold)


def _live_or_raise(index_dir: Path) -> Path:
    """The live version's folder; IndexMissing when there is no index, IndexDamaged when the
    pointer is unreadable or names a version that is gone."""
    path = live_version(index_dir)
    if path is not None:
        return path
    pointer = index_dir / "CURRENT"
    if pointer.is_file():  # the pointer names a version folder that is gone: damage, not "no index"
        name = _pointer_name(index_dir)
        if name is None:
            raise IndexDamaged(f"the index file {pointer} is damaged (it does not hold a version name); "
                               + repair_hint(index_dir))
        raise IndexDamaged(f"the index file {pointer} names the version {name!r}, which is missing; "
                           + repair_hint(index_dir))
    raise IndexMissing(f"no index in {index_dir}: run `bulletin-qa index` (or `make index`) to build it")


class _VersionReader:
    """Reads the files of one version folder; ``current`` names the file being read, for the
    message when one is damaged.  Arrays are read into memory up to ``IN_MEMORY_BYTES`` in
    total, the rest memory-mapped."""

    def __init__(self, path: Path):
        self.path, self.current, self.budget = path, None, [IN_MEMORY_BYTES]

    def at(self, name: str) -> Path:
        self.current = self.path / name
        return self.current

    def json(self, name: str):
        return json.loads(self.at(name).read_text(encoding="utf-8"))

    def array(self, name: str) -> np.ndarray:
        return _load_array(self.at(name), self.budget)

    def faiss(self, name: str):
        import faiss

        return faiss.read_index(str(self.at(name)))

    def read_all(self, full_check: bool) -> dict:
        manifest = self.json("manifest.json")
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
            raise ValueError(f"format {manifest.get('format') if isinstance(manifest, dict) else None!r}, "
                             f"this version reads {FORMAT_VERSION}")
        if "checksums" in manifest:  # indexes built before checksums were kept have none
            try:
                verify(self.path, manifest["checksums"], full=full_check)
            except _Damage as e:
                self.current = e.path
                raise
        settings = manifest["settings"]
        passages = [json.loads(line) for line in self.at("passages.jsonl").read_text(encoding="utf-8").splitlines()
                    if line]
        _check_passages(passages)
        out = {"manifest": manifest, "passages": passages, "vectors": self.array("vectors.npy"),
               "fi": self.faiss("dense.faiss"), "bm25": BM25Index.load(self.at("bm25")),
               "use": None, "sent": None, "use_index": None, "terms": None, "term_vectors": None,
               "e5_sent": None, "bigram": None, "bridge": None}
        if manifest.get("second_model"):  # the word bridge
            out["terms"], out["term_vectors"] = self.json("terms.json"), self.array("terms.npy")
        if settings.get("ensemble"):  # the second model's passage and sentence vectors
            out["use"], out["sent"] = self.array("use.npy"), self.array("sentences.npy")
            out["use_index"] = self.faiss("use.faiss") if (self.path / "use.faiss").exists() else None
        if settings.get("sentences"):  # e5 vectors of each passage's sentences
            out["e5_sent"] = self.array("e5_sentences.npy")
        if settings.get("lexical", 0) >= 3:  # BM25 over character bigrams
            out["bigram"] = BM25Index.load(self.at("bigram"), tokenizer=bigrams)
        if (self.path / "bridge.json").exists():
            out["bridge"] = self.json("bridge.json")
        return out


def _check_consistent(path: Path, parts: dict, index_dir: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The files of a version agree with each other (counts of passages, vectors, sentences,
    terms); returns the passages' sentence spans (second model's, e5's)."""
    passages, vectors, fi = parts["passages"], parts["vectors"], parts["fi"]
    if not (len(passages) == vectors.shape[0] == fi.ntotal):
        raise IndexDamaged(f"the index in {path} is inconsistent ({len(passages)} passages, "
                           f"{vectors.shape[0]} vectors, {fi.ntotal} in FAISS); " + repair_hint(index_dir))
    try:
        spans = np.asarray([p.get("sent", [0, 0]) for p in passages], dtype=np.int64).reshape(-1, 2)
        e5_spans = None if parts["e5_sent"] is None else np.asarray(
            [p.get("esent", [0, 0]) for p in passages], dtype=np.int64).reshape(-1, 2)
    except (TypeError, ValueError) as e:
        raise IndexDamaged(f"the index file {path / 'passages.jsonl'} is damaged ({type(e).__name__}: {e}); "
                           + repair_hint(index_dir)) from e
    use, sent, terms, e5_sent = parts["use"], parts["sent"], parts["terms"], parts["e5_sent"]
    if use is not None and (use.shape[0] != len(passages) or int(spans[:, 1].sum()) != sent.shape[0]):
        raise IndexDamaged(f"the second-model vectors in {path} do not match the passages; " + repair_hint(index_dir))
    if terms is not None and len(terms) != parts["term_vectors"].shape[0]:
        raise IndexDamaged(f"{path / 'terms.npy'} does not match terms.json; " + repair_hint(index_dir))
    if e5_sent is not None and (int(e5_spans[:, 1].sum()) != e5_sent.shape[0]
                                or e5_sent.shape[1:] != vectors.shape[1:]):
        raise IndexDamaged(f"{path / 'e5_sentences.npy'} does not match the passages; " + repair_hint(index_dir))
    return spans, e5_spans


# --------------------------------------------------------------------------- building


def _lock(index_dir: Path, wait: float | None):
    from filelock import FileLock, Timeout

    lock = FileLock(str(index_dir / LOCK_NAME))
    try:
        lock.acquire(timeout=-1 if wait is None else wait)
    except Timeout:
        raise RuntimeError(f"another `bulletin-qa index` is building {index_dir}; "
                           "wait for it to finish (or pass --wait)") from None
    except OSError as e:
        raise _write_error(e, index_dir / LOCK_NAME, index_dir) from None
    return lock


def _mount_of(path: Path) -> str:
    """"<source> (mounted at <dir>)" of the filesystem holding ``path``, as /proc/self/mounts says."""
    p = os.path.realpath(path)
    while not os.path.ismount(p) and p != os.path.dirname(p):
        p = os.path.dirname(p)
    source = None
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 1 and parts[1].replace("\\040", " ") == p:
                    source = parts[0]
    except OSError:
        pass
    return f"{source} (mounted at {p})" if source else p


def _write_error(e: OSError, target: Path, index_dir: Path) -> IndexWriteError:
    """One line for a build that could not write: what, where, and that the live index stands."""
    where = f"while writing {target}"
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        what = "no space left" if e.errno == errno.ENOSPC else "disk quota exceeded"
        return IndexWriteError(f"{what} on {_mount_of(index_dir)} {where}; the live index is unchanged "
                               "(free some space and run `bulletin-qa index` again)")
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        why = "is on a read-only filesystem" if e.errno == errno.EROFS else "is not writable"
        return IndexWriteError(f"the index folder {index_dir} {why} ({e.strerror} {where}); searches still work, "
                               "but a build cannot write a new version: make it writable or pass --index DIR")
    return IndexWriteError(f"cannot write the index ({e.strerror or e} {where}); the live index is unchanged")


def build_index(corpus: Path, index_dir: Path, embedder: Embedder | None = None, *, rebuild: bool = False,
                second=..., ensemble: bool | None = None,
                chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP, progress=None,
                wait: float | None = 0, settings: Settings | None = None) -> BuildReport:
    """(Re)build the index of ``corpus`` in ``index_dir``, incrementally where it can.

    ``progress(stage, done, total)`` is called while files are read and passages embedded.
    ``wait``: seconds to wait for a running build (None = forever, 0 = refuse at once).
    ``ensemble``: also store the second model's passage and sentence vectors and search with
    them (None: as the live index does; off for a new one).  Off, a hybrid query costs one e5
    query embedding plus ~1 ms; on, one second-model query embedding more (docs/figures.md).
    ``settings`` (default ``Settings()``): the model when ``embedder`` is None, the second model
    when ``second`` is left out (``...``; None: without), the read limits, the ANN threshold.
    """
    t0 = time.perf_counter()
    settings = settings if settings is not None else Settings()
    corpus, index_dir = Path(corpus), Path(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _write_error(e, index_dir, index_dir) from None
    lock = _lock(index_dir, wait)  # first: a second build is refused before any model loads
    try:
        embedder = embedder or Embedder(settings=settings)
        second = default_second_model(settings) if second is ... else second
        if ensemble is None:
            ensemble = _live_setting(index_dir, "ensemble", False)
        return build_locked(corpus, FolderTarget(index_dir, settings), embedder, second, ensemble, rebuild, chunk_size,
                            chunk_overlap, progress, t0, read=functools.partial(read_document, settings=settings),
                            cluster=cluster_for(settings))
    finally:
        lock.release()


class FolderTarget:
    """Where a build reads the live version from and writes the new one: an index folder.  A
    database store has its own (qa/index/postgres.py); ``build_locked`` is the same for both."""

    def __init__(self, index_dir: Path, settings: Settings | None = None):
        self.index_dir = Path(index_dir)
        self.settings = settings if settings is not None else Settings()  # the ANN threshold and depth

    def previous(self, rebuild: bool):
        return _load_previous(self.index_dir, rebuild)

    def keep(self) -> str:
        """Nothing changed: the live version stays (the leftovers of a build killed earlier go)."""
        _clean_orphans(self.index_dir)
        return live_version(self.index_dir).name

    def live_dates(self) -> dict[str, str]:
        return _live_dates(self.index_dir)

    def embedding_cache(self):
        return self.index_dir  # <index>/cache/embeddings.sqlite (qa/embed/cache.py)

    def lexical(self, texts: list[str]):
        """(the lexical indexes, the vocabulary) of the passages' texts."""
        bm25 = BM25Index.build(texts)
        bigram = BM25Index.build(texts, tokenizer=bigrams)
        return (bm25, bigram), vocabulary(bm25)

    def write(self, manifest: dict, rows: list[dict], vectors: np.ndarray, lexical, parts: dict) -> str:
        bm25, bigram = lexical
        ann = dict(threshold=self.settings.ann_threshold, ef=self.settings.ef_search)
        fi = build_vector_index(vectors, vectors.shape[1], **ann)  # exact while small, HNSW past the threshold
        manifest = manifest | {"faiss": describe(fi)}
        extra = {"bridge.json": parts["bridge"], "e5_sentences.npy": parts["e5_sentences"], "bigram": bigram}
        if parts.get("terms") is not None:
            extra |= {"terms.json": parts["terms"], "terms.npy": parts["term_vectors"]}
        if parts.get("use") is not None:
            extra |= {"use.npy": parts["use"], "sentences.npy": parts["sentences"]}
            extra["use.faiss"] = build_vector_index(parts["use"], parts["use"].shape[1], **ann)
            manifest["use_faiss"] = describe(extra["use.faiss"])
        return _write_version(self.index_dir, manifest, rows, vectors, fi, bm25, extra).name


def _load_previous(index_dir: Path, rebuild: bool):
    """(manifest, passages, vectors) of the live version, or empties when unusable."""
    if rebuild:
        return None, [], None
    try:
        old = StoredIndex.load(index_dir, full_check=True)  # nothing damaged is carried into the new version
    except IndexDamaged as e:
        if live_version(index_dir) is not None:
            log.warning("ignoring the damaged live index: %s", e)
        return None, [], None
    return old.manifest, old.passages, old


def _live_dates(index_dir: Path) -> dict[str, str]:
    """Each file's "added" date in the live manifest (kept by a rebuild from scratch too)."""
    try:
        files = json.loads((live_version(index_dir) / "manifest.json").read_text(encoding="utf-8"))["files"]
        return {k: v["added"] for k, v in files.items() if isinstance(v, dict) and isinstance(v.get("added"), str)}
    except Exception:  # noqa: BLE001 - no index, or a damaged one: no dates
        return {}


def _live_setting(index_dir: Path, key: str, default):
    try:
        return json.loads((live_version(index_dir) / "manifest.json").read_text())["settings"].get(key, default)
    except Exception:  # noqa: BLE001 - no index, or a damaged one: the default
        return default


def _write_version(index_dir: Path, manifest, rows, vectors, fi, bm25, extra: dict) -> Path:
    """Write a new version folder beside the live one and switch CURRENT to it.  Any failure
    (disk full, read-only folder) removes what was written and raises IndexWriteError: the
    live version and CURRENT are untouched."""
    name = f"v-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    tmp = index_dir / f".tmp-{name}"
    pointer_tmp = index_dir / f".CURRENT.{os.getpid()}"
    previous = _pointer_name(index_dir)  # kept by the clean-up: readers may still hold it
    target = tmp
    try:
        tmp.mkdir()
        where = [tmp]
        try:
            _write_parts(tmp, manifest, rows, vectors, fi, bm25, extra, where)
        finally:
            target = where[0]
        final = index_dir / name
        target = final
        os.replace(tmp, final)
        target = pointer_tmp
        pointer_tmp.write_text(name)
        with open(pointer_tmp, "rb") as fh:
            os.fsync(fh.fileno())
        target = index_dir / "CURRENT"
        os.replace(pointer_tmp, index_dir / "CURRENT")
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if _pointer_name(index_dir) != name:  # not switched: the new folder is an orphan
            shutil.rmtree(index_dir / name, ignore_errors=True)
        try:
            pointer_tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise _write_error(e, target, index_dir) from None
        raise
    _clean_old(index_dir, keep={name, previous})
    return final


def _write_parts(tmp: Path, manifest, rows, vectors, fi, bm25, extra: dict, where: list) -> None:
    """A version's files written into ``tmp`` and synced; ``where[0]``: the file being written
    (named when a write fails)."""
    def at(name: str) -> Path:
        where[0] = tmp / name
        return where[0]

    with open(at("passages.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    np.save(at("vectors.npy"), vectors)
    _write_faiss(fi, at("dense.faiss"))
    bm25.save(at("bm25"))
    for fname, obj in extra.items():
        target = at(fname)
        if isinstance(obj, np.ndarray):
            np.save(target, obj)
        elif hasattr(obj, "ntotal"):  # a FAISS index
            _write_faiss(obj, target)
        elif isinstance(obj, BM25Index):  # a folder of bm25s arrays
            obj.save(target)
        else:
            target.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    manifest = manifest | {"checksums": checksums(tmp)}
    at("manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    for f in tmp.rglob("*"):
        if f.is_file():
            where[0] = f
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())


def _write_faiss(index, path: Path) -> None:
    """faiss.write_index through Python's file I/O, so a full disk is an OSError with its errno
    (FAISS's own writer raises a RuntimeError without one)."""
    import faiss

    data = faiss.serialize_index(index)
    with open(path, "wb") as f:
        f.write(memoryview(data))


def _clean_old(index_dir: Path, keep: set) -> None:
    """Remove version folders other than the live one (whatever CURRENT names, read again here)
    and the one live before this build (readers may still hold it): the orphans of builds
    killed between their folder's rename and CURRENT's are removed, never a live version."""
    keep = set(keep) | {_pointer_name(index_dir)}
    for p in index_dir.glob("v-*"):
        if p.is_dir() and p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
    _clean_orphans(index_dir)


def _clean_orphans(index_dir: Path) -> None:
    """Remove what builds killed midway left: their unfinished folders and pointer files."""
    for p in index_dir.glob(".tmp-v-*"):
        shutil.rmtree(p, ignore_errors=True)
    for p in index_dir.glob(".CURRENT.*"):  # pointer files of builds killed before their rename
        p.unlink(missing_ok=True)
