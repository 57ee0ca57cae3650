"""Index stage, the build every store shares: plan (what the live version keeps, which files
to read again), read and chunk what changed, embed what is new while the lexical side is
built, and hand the new version to the store's :class:`qa.index.base.BuildTarget` to write.
The folder (qa/index/folder.py) and PostgreSQL (qa/index/postgres_build.py) differ only in
their target."""

from __future__ import annotations

import contextvars
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from qa.embed.cache import CachedEmbedder
from qa.embed.model import Embedder
from qa.files import file_sha256
from qa.messages import Msg, of_exception
from qa.index.base import BuildReport
from qa.index.bm25 import LEXICAL_VERSION, bridge_terms, name_terms, pinyin_bridge
from qa.ingest.chunk import chunk_document, chunk_settings
from qa.ingest.read import SUFFIXES, IngestError, list_corpus, outside_files, read_document, unsupported_files
from qa.text.sentences import sentences
from qa.text.variants import simplified

log = logging.getLogger(__name__)

FORMAT_VERSION = 1  # of a version's manifest


def _settings(embedder: Embedder, second, ensemble: bool, chunk_size: int, chunk_overlap: int) -> dict:
    return {"model": embedder.model_id, "prefixes": embedder.prefixes,
            "second_model": second.model_id if second else None,
            "ensemble": bool(ensemble and second), "lexical": LEXICAL_VERSION, "sentences": SENTENCE_VERSION,
            "chunking": chunk_settings(chunk_size, chunk_overlap)}


def cluster_for(settings):
    """The Ray cluster a build runs on (``Settings.ray``: auto, an address, or local), or None
    to build here (qa/index/cluster.py)."""
    if not settings.ray:
        return None
    from qa.index.cluster import Cluster

    return Cluster.connect(settings.ray, settings)


def wants_second_model(settings) -> bool:
    """Does a build use the second model (``Settings.second_model``: BULLETIN_QA_SECOND_MODEL=none
    goes without)?"""
    return str(settings.second_model).lower() not in ("none", "off", "0")


def default_second_model(settings):
    """The second model (the word bridge; with ``ensemble``, passage and sentence vectors too),
    unless ``settings`` say none: a model of its own (``qa.Index`` passes the process's one)."""
    if not wants_second_model(settings):
        return None
    from qa.embed.model import UseEmbedder

    return UseEmbedder(cache=settings.cache_dir)


def build_locked(corpus, target, embedder, second, ensemble, rebuild, chunk_size, chunk_overlap, progress,
                 t0, read=read_document, cluster=None) -> BuildReport:
    """A build, its lock held: plan (read the live version from ``target``, FolderTarget or a
    database's, and re-read what changed), embed what is new while the lexical side is built,
    and have ``target`` write the new version.  ``read``: reads one file (read_document with the
    caller's read limits).  ``cluster`` (qa.index.cluster.Cluster, with the caller's Settings as
    ``cluster_settings``): read, chunk and embed on a Ray cluster instead of here; the rest is
    the same, so is the index."""
    settings = _settings(embedder, second, ensemble, chunk_size, chunk_overlap)
    if cluster is not None:
        try:
            return _build(corpus, target, cluster.embedder(embedder, cluster.settings), second, ensemble, rebuild,
                          chunk_size, chunk_overlap, progress, t0, settings,
                          lambda jobs: cluster.prepare_all(jobs, cluster.settings, chunk_size, chunk_overlap), cluster)
        finally:
            cluster.close()
    return _build(corpus, target, embedder, second, ensemble, rebuild, chunk_size, chunk_overlap, progress, t0,
                  settings, _prepare_here(read, corpus, chunk_size, chunk_overlap, progress))


def _build(corpus, target, embedder, second, ensemble, rebuild, chunk_size, chunk_overlap, progress, t0, settings,
           prepare, cluster=None) -> BuildReport:
    plan = _plan(corpus, target, settings, rebuild, progress, prepare)
    report, rows = plan.report, plan.new_rows
    if plan.unchanged:  # the same settings and files: the live version is what this build would write
        report.version, report.unchanged = target.keep(), True
        report.files, report.passages = len(plan.files), len(rows)
        report.reused_passages = len(rows)
        report.seconds = time.perf_counter() - t0
        return report
    embedding = _Embedding(CachedEmbedder(embedder, target.embedding_cache()), plan, progress)
    # the model encodes on a worker thread (ONNX Runtime and torch release the GIL) while this
    # thread builds the lexical side and the word bridge, so a build costs about its encoding
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulletin-qa-build") as pool:
        encoding = pool.submit(contextvars.copy_context().run, embedding.run)  # a caller's progress context too
        if progress:
            progress("lexical", 0, 1)  # the word index, while the model encodes
        lexical, parts = _lexical_side(target, plan, second)
        if progress:
            progress("lexical", 1, 1)
        encoding.result()
    report.embedded_passages = len(embedding.todo)
    report.reused_passages = len(rows) - len(embedding.todo)
    manifest = {"format": FORMAT_VERSION, "settings": settings, "files": plan.files,
                "second_model": settings["second_model"], "passages": len(rows), "dim": embedding.dim,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    parts["e5_sentences"] = embedding.sentences
    if progress:
        progress("write", 0, 1)
    report.version = target.write(manifest, rows, embedding.vectors, lexical, parts)
    report.files, report.passages = len(plan.files), len(rows)
    report.seconds = time.perf_counter() - t0
    if cluster is not None:
        report.nodes = {node: {"files": cluster.work.files[node], "texts": cluster.work.texts[node]}
                        for node in sorted(cluster.work.nodes)}
    return report


@dataclass
class _BuildPlan:
    """What a build starts from (the live version) and what it will write (rows, and for each
    the old vector it keeps or None: to embed)."""

    settings: dict
    old: object  # the live version's store, or None
    same_model: bool  # the live version was embedded by the same models: its vectors serve
    report: BuildReport
    files: dict = field(default_factory=dict)
    new_rows: list = field(default_factory=list)
    row_vectors: list = field(default_factory=list)  # index into the old vectors, or None = to embed
    old_files: dict = field(default_factory=dict)  # the live manifest's files (same settings only)
    old_count: int = 0  # the live version's passages

    @property
    def unchanged(self) -> bool:
        """The live version is what this build would write: the same settings, the same files
        with the same contents (so every passage is one of its own), none removed."""
        return (self.old is not None and not self.report.full_rebuild and self.files == self.old_files
                and sorted(self.row_vectors) == list(range(self.old_count)))

    @property
    def old_vectors(self):
        return np.asarray(self.old.vectors) if self.old is not None else None


def _prepare_here(read, corpus, chunk_size: int, chunk_overlap: int, progress=None):
    """Read and chunk files one after another (each in the reading worker): yields (name,
    document or the error's text, chunks)."""
    def prepare(jobs):
        for path, name in jobs:
            try:  # read and chunked in the reading worker, under its limits (qa/ingest/worker.py)
                doc = read(path, name, root=corpus, chunking=(chunk_size, chunk_overlap), progress=pages)
            except (IngestError, OSError) as e:
                yield name, of_exception(e), None
                continue
            yield name, doc, doc.chunks if doc.chunks is not None else chunk_document(doc, chunk_size, chunk_overlap)
    pages = (lambda done, total: progress("ocr", done, total)) if progress else None  # OCR pages of a file
    return prepare


def _plan(corpus, target, settings, rebuild, progress, prepare) -> _BuildPlan:
    """Every file of the corpus: an unchanged one keeps its passages and vectors, a new or changed
    one is read and chunked (its passages' vectors reused when the text is the same)."""
    old_manifest, old_passages, old = target.previous(rebuild)
    same_model = old_manifest is not None and all(
        old_manifest["settings"].get(key) == settings[key] for key in ("model", "prefixes", "second_model"))
    same_all = same_model and old_manifest["settings"] == settings
    plan = _BuildPlan(settings, old, same_model, BuildReport(version="", files=0, passages=0, full_rebuild=not same_all))
    old_files = old_manifest["files"] if same_all else {}
    plan.old_files, plan.old_count = old_files, len(old_passages)
    cache = {p["key"]: i for i, p in enumerate(old_passages)} if same_model else {}
    by_file: dict[str, list[int]] = {}
    for i, p in enumerate(old_passages):
        by_file.setdefault(p["source"], []).append(i)
    _skip_unreadable(corpus, plan.report)
    dates = target.live_dates()
    paths = list_corpus(corpus)
    names = [path.relative_to(corpus).as_posix() for path in paths]
    kept = {name for path, name in zip(paths, names)
            if old_files.get(name) and old_files[name]["sha256"] == file_sha256(path)}
    prepared = {}
    for n, (name, doc, chunks) in enumerate(prepare([(p, m) for p, m in zip(paths, names) if m not in kept]), 1):
        prepared[name] = (doc, chunks)
        if progress:
            progress("read", len(kept) + n, len(paths))
    for name in names:  # the corpus's order, whatever order the files were read in
        prev = old_files.get(name)
        if name in kept:
            plan.files[name] = prev
            for i in by_file.get(name, []):
                plan.new_rows.append(old_passages[i])
                plan.row_vectors.append(i)
            continue
        for c in _file_entry(name, *prepared[name], plan, prev, dates):
            plan.new_rows.append(c.to_dict() | {"key": c.key, "embed_text": c.embed_text})
            plan.row_vectors.append(cache.get(c.key))
    plan.report.removed_files = sorted(set(by_file) - set(plan.files))
    return plan


def skipped(name: str, why) -> Msg:
    return Msg("build.skipped", "skipped {name}: {why}", "已跳过 {name}：{why}", name=name, why=why)


def _skip_unreadable(corpus, report: BuildReport) -> None:
    """Name the files no reader takes and the symlinks that lead out of the corpus."""
    for p in unsupported_files(corpus):
        msg = skipped(p.relative_to(corpus).as_posix(), Msg(
            "build.unsupported", "unsupported file type (readable: {suffixes})", "不支持的文件类型（可读取：{suffixes}）",
            suffixes=", ".join(SUFFIXES)))
        log.warning(msg)
        report.skipped.append(msg)
    for p in outside_files(corpus):
        msg = skipped(p.relative_to(corpus).as_posix(), Msg(
            "build.outside", "its real path is outside the corpus folder (a symlink to elsewhere); not read",
            "它的真实路径在语料库文件夹之外（指向别处的符号链接）；未读取"))
        log.warning(msg)
        report.skipped.append(msg)


def _file_entry(name, doc, chunks, plan: _BuildPlan, prev, dates) -> list:
    """A new or changed file's manifest entry made (its first "added" date kept) and its chunks
    returned; [] and a warning naming it when it could not be read (``doc`` is then the
    error's text)."""
    if chunks is None:
        msg = skipped(name, doc)
        log.warning(msg)
        plan.report.skipped.append(msg)
        return []
    entry = {"sha256": doc.sha256, "size": doc.size, "encoding": doc.encoding,
             "passages": len(chunks), "added": time.strftime("%Y-%m-%dT%H:%M:%S"),
             "title": next((c.title for c in chunks if c.title), "")}
    if prev or name in dates:
        entry["added"] = (prev or {}).get("added") or dates.get(name) or entry["added"]
    plan.files[name] = entry
    if "undecodable lines" in doc.encoding:
        msg = f"read {name} in part: {doc.encoding.split('(', 1)[1].rstrip(')')} (neither UTF-8 nor GB18030)"
        log.warning(msg)
        plan.report.warnings.append(msg)
    for why in doc.meta.get("skipped_pages", []):  # a scanned page over the read limits (qa/ingest/worker.py)
        msg = f"read {name} without {why}"
        log.warning(msg)
        plan.report.warnings.append(msg)
    return chunks


class _Embedding:
    """The e5 side of a build: the passages' vectors (kept, from the embedding cache, or encoded)
    and their sentences' (``run`` encodes what is left, on the build's worker thread)."""

    BATCH = 64  # passages per progress step

    def __init__(self, embedder: CachedEmbedder, plan: _BuildPlan, progress):
        rows, old_vectors = plan.new_rows, plan.old_vectors
        self.embedder, self.rows, self.progress = embedder, rows, progress
        todo = [i for i, v in enumerate(plan.row_vectors) if v is None]
        self.todo = embedder.lookup(rows, todo)  # text already embedded leaves todo (longest first)
        todo_files = {rows[i]["source"] for i in self.todo}
        plan.report.embedded_files = [name for name in plan.files if name in todo_files]  # files the model ran on
        self.dim = embedder.dim if (self.todo or old_vectors is None) else old_vectors.shape[1]
        self.vectors = np.zeros((len(rows), self.dim), dtype=np.float32)
        for i, v in enumerate(plan.row_vectors):
            if v is not None:
                self.vectors[i] = old_vectors[v]
        embedder.fill(self.vectors)
        self.sent_texts = sentence_texts(rows)  # sets row["esent"]; their vectors come from the cache when known
        found, self.sent_todo = embedder.find(self.sent_texts)
        self.sentences = np.zeros((len(self.sent_texts), self.dim), dtype=np.float32)
        for j, v in found.items():
            self.sentences[j] = v

    def run(self) -> None:
        b, progress = self.BATCH * getattr(self.embedder, "parallel", 1), self.progress  # a cluster: a batch per CPU
        for s in range(0, len(self.todo), b):
            idx = self.todo[s: s + b]
            self.vectors[idx] = self.embedder.embed_passages([self.rows[i]["embed_text"] for i in idx])
            if progress:
                progress("embed", min(s + b, len(self.todo)), len(self.todo))
        for s in range(0, len(self.sent_todo), 4 * b):  # sentences are short: the same work per step
            idx = self.sent_todo[s: s + 4 * b]
            self.sentences[idx] = self.embedder.embed_passages([self.sent_texts[j] for j in idx])
            if progress:
                progress("embed sentences", min(s + 4 * b, len(self.sent_todo)), len(self.sent_todo))


def _lexical_side(target, plan: _BuildPlan, second) -> tuple[object, dict]:
    """The word index (``target``'s kind), the pinyin bridge, and with a second model the word
    bridge's term vectors (and an ensemble's passage and sentence vectors)."""
    rows = plan.new_rows
    lexical, vocab = target.lexical([r["embed_text"] for r in rows])
    bridge = pinyin_bridge(name_terms(vocab))
    use_vectors = sent_vectors = terms = term_vectors = None
    if second is not None:
        second.word_table()  # made once per machine, so no query pays for it
        second = CachedEmbedder(second.with_threads(1), target.embedding_cache())
        terms = bridge_terms(vocab)
        term_vectors = _term_vectors(second, terms, plan.old if plan.same_model else None)
    if plan.settings["ensemble"]:
        use_vectors, sent_vectors = _second_vectors(second, rows, plan.row_vectors, plan.old)
    else:
        for row in rows:
            row.pop("sent", None)
    return lexical, {"bridge": bridge, "terms": terms, "term_vectors": term_vectors,
                     "use": use_vectors, "sentences": sent_vectors}


SENTENCE_VERSION = 1  # how sentence_texts() cuts and labels sentences: part of the manifest


def sentence_texts(rows: list[dict]) -> list[str]:
    """The text the model sees for each sentence of each passage, in order: the article title
    as context, then the sentence (spans as ``chunk.sentences`` cuts them, the spans the
    highlight chooses among).  Sets ``row["esent"] = [first, count]``."""
    out: list[str] = []
    for row in rows:
        text = simplified(row["text"])  # Traditional seen in Simplified, as the questions (same spans)
        spans = sentences(text)
        row["esent"] = [len(out), len(spans)]
        title = simplified(row.get("title") or "")
        out += [f"{title}\n{text[a:b]}" if title else text[a:b] for a, b in spans]
    return out


def _second_vectors(second, rows: list[dict], row_vectors: list, old) -> tuple[np.ndarray, np.ndarray]:
    """Second-model vectors of each passage and of each of its sentences; rows reused from
    the old index (same key, same model) keep theirs.  Sets row["sent"] = [first, count]."""
    n = len(rows)
    use = np.zeros((n, second.dim), dtype=np.float32)
    parts: list[np.ndarray | None] = [None] * n
    todo = []
    for i, j in enumerate(row_vectors):
        if j is not None and old is not None and old.use_vectors is not None:
            use[i] = old.use_vectors[j]
            a, c = old.sent_spans[j]
            parts[i] = np.asarray(old.sent_vectors[a:a + c])
        else:
            todo.append(i)
    if todo:
        use[todo] = second.embed_passages([rows[i]["embed_text"] for i in todo])
        sents = [[t[a:b] for a, b in sentences(t)] for t in (simplified(rows[i]["text"]) for i in todo)]
        vecs = second.embed_passages([x for ss in sents for x in ss])
        pos = 0
        for i, ss in zip(todo, sents):
            parts[i] = vecs[pos:pos + len(ss)]
            pos += len(ss)
    start = 0
    for row, part in zip(rows, parts):
        row["sent"] = [start, len(part)]
        start += len(part)
    flat = np.concatenate(parts) if n else np.zeros((0, second.dim), dtype=np.float32)
    return use, np.ascontiguousarray(flat, dtype=np.float32)


def _term_vectors(second, terms: list[str], old) -> np.ndarray:
    """Second-model vectors of the corpus terms (for mapping English words to Chinese terms);
    terms the old index already embedded with the same model are reused."""
    known = {t: i for i, t in enumerate(old.terms)} if old is not None and old.terms is not None else {}
    vecs = np.zeros((len(terms), second.dim), dtype=np.float32)
    todo = []
    for n, t in enumerate(terms):
        if t in known:
            vecs[n] = old.term_vectors[known[t]]
        else:
            todo.append(n)
    if todo:
        vecs[todo] = second.embed_passages([terms[n] for n in todo])
    return vecs
