"""Index stage, a build spread over a Ray cluster (``bulletin-qa index --ray auto|ADDRESS``,
``BULLETIN_QA_RAY``): the files are read and chunked in Ray tasks and the passages embedded by
Ray actors, one per CPU of the cluster, each loading the model once.  The plan, the lexical side,
the embedding cache and the write stay on the driver (qa/index/build.py), so the index is the
one a local build makes: the same rows in the same order, and the same vectors (the model's
vectors depend on their text alone, qa/embed/onnx.py).

A worker gets the bytes of a file, not its path, so the nodes need no shared disk; they need the
package installed (``pip install 'bulletin-qa[cluster]'``) and keep their own model cache.  A
worker that dies is replaced: a read task is retried by Ray, and an actor is restarted (its model
loaded again) and the batch it held sent again; every result goes back to its row by position,
so nothing is lost or doubled.  See docs/scaling.md.

    >>> cluster = Cluster.connect("auto", settings)               # doctest: +SKIP
    >>> build_locked(corpus, target, embedder, ..., cluster=cluster)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

WINDOW = 2  # batches in flight per actor: one running, one queued, so no actor waits on the driver


class ClusterError(RuntimeError):
    """The cluster could not be reached or used (one line, for the CLI and the page)."""


def _ray():
    try:
        import ray
    except ImportError:
        raise ClusterError("a build on a Ray cluster needs Ray: pip install 'bulletin-qa[cluster]'") from None
    return ray


@dataclass
class Work:
    """What each node did in a build: files read and texts embedded, by node id."""

    files: Counter = field(default_factory=Counter)
    texts: Counter = field(default_factory=Counter)

    @property
    def nodes(self) -> set:
        return set(self.files) | set(self.texts)


def _prepare(data: bytes, name: str, settings, chunk_size: int, chunk_overlap: int):
    """On a worker: one file's bytes read and chunked (under the reading limits, in a reading
    worker of its own; OCR text cached in the worker node's own cache).  Returns (node id, document, chunks), or (node id, the error's text, None)
    for a file that cannot be read."""
    import ray

    from qa.ingest.chunk import chunk_document
    from qa.ingest.read import IngestError, read_document
    from qa.messages import of_exception

    node = ray.get_runtime_context().get_node_id()
    with tempfile.TemporaryDirectory(prefix="bulletin-qa-ray-") as tmp:
        path = Path(tmp, *name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        try:  # read and chunked in the reading worker, under its limits, as a local build does
            doc = read_document(path, name, root=Path(tmp), settings=settings, chunking=(chunk_size, chunk_overlap))
        except (IngestError, OSError) as e:
            return node, of_exception(e), None
    return node, doc, doc.chunks if doc.chunks is not None else chunk_document(doc, chunk_size, chunk_overlap)


class _EmbedActor:
    """On a worker: the model, loaded once, encoding the batches it is sent."""

    def __init__(self, model_name, device, settings):
        from qa.embed.model import Embedder

        self.embedder = Embedder(model_name, device=device, settings=settings)

    def call(self, method: str, texts: list[str]):
        import ray

        return ray.get_runtime_context().get_node_id(), getattr(self.embedder, method)(texts)


def _reachable(address: str, seconds: float = 5.0) -> None:
    """A ClusterError at once when ``address`` is host:port and nothing answers there (Ray itself
    retries for minutes before it gives up)."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return  # auto, local, ray://…: Ray's own lookup
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=seconds).close()
    except OSError as e:
        raise ClusterError(f"cannot join the Ray cluster at {address}: {e.strerror or e}") from None


class Cluster:
    """A connection to a Ray cluster, for one build."""

    def __init__(self, ray, address: str, settings):
        self.ray, self.address, self.settings = ray, address, settings
        self.work = Work()
        self._actors: list = []

    @classmethod
    def connect(cls, address: str, settings) -> "Cluster":
        """Join the cluster at ``address`` ("auto": the one this machine runs; "local": a cluster
        of this process's own).  A ClusterError when it cannot be reached."""
        ray = _ray()
        if not ray.is_initialized():
            _reachable(address)
            try:
                ray.init(address=None if address == "local" else address, logging_level=logging.WARNING,
                         log_to_driver=False, include_dashboard=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise ClusterError(f"cannot join the Ray cluster at {address}: {first}") from None
        return cls(ray, address, settings)

    def cpus(self) -> int:
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    # ------------------------------------------------------------------ reading

    def prepare_all(self, jobs: list[tuple[Path, str]], settings, chunk_size: int, chunk_overlap: int):
        """Read and chunk each (path, name) in a Ray task; yields (name, document or error text,
        chunks) in the order the tasks end.  A task whose worker dies is retried by Ray."""
        if not jobs:
            return
        remote = self.ray.remote(num_cpus=1, max_retries=3)(_prepare)
        worker_settings = settings.replace(cache=None)  # each node keeps its own cache (OCR text, the model)
        pending = {}
        for path, name in jobs:
            with open(path, "rb") as f:  # the driver read the corpus listing; the worker gets the bytes
                data = f.read()
            pending[remote.remote(data, name, worker_settings, chunk_size, chunk_overlap)] = name
        while pending:
            done, _ = self.ray.wait(list(pending), num_returns=1)
            name = pending.pop(done[0])
            node, doc, chunks = self.ray.get(done[0])
            self.work.files[node] += 1
            yield name, doc, chunks

    # ------------------------------------------------------------------ embedding

    def embedder(self, local, settings) -> "RemoteEmbedder":
        """``local`` (the driver's Embedder) with its encoding done by this cluster's actors."""
        return RemoteEmbedder(local, self, settings)

    def actors(self, local, settings) -> list:
        if not self._actors:
            cls = self.ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=-1)(_EmbedActor)
            worker_settings = settings.replace(cache=None, threads=1)  # each node its own cache; a CPU each
            self._actors = [cls.remote(local.model_name, local.device, worker_settings) for _ in range(self.cpus())]
        return self._actors

    def encode(self, local, settings, method: str, texts: list[str]) -> np.ndarray:
        """``method`` of the model over ``texts``, in batches of the model's batch size spread over
        the actors (a few in flight each); the results in the order of ``texts``."""
        if not texts:
            return getattr(local, method)(texts)
        actors = self.actors(local, settings)
        step = max(1, int(getattr(local, "batch_size", 4) or 4))
        batches = [(s, texts[s: s + step]) for s in range(0, len(texts), step)]
        out: list = [None] * len(batches)
        pending: dict = {}
        next_batch = 0

        def submit(actor_no: int):
            nonlocal next_batch
            if next_batch < len(batches):
                ref = actors[actor_no].call.remote(method, batches[next_batch][1])
                pending[ref] = (next_batch, actor_no)
                next_batch += 1

        for a in range(len(actors)):
            for _ in range(WINDOW):
                submit(a)
        while pending:
            done, _ = self.ray.wait(list(pending), num_returns=1)
            n, actor_no = pending.pop(done[0])
            node, vectors = self.ray.get(done[0])
            out[n] = np.asarray(vectors, dtype=np.float32)
            self.work.texts[node] += len(batches[n][1])
            submit(actor_no)
        return np.concatenate(out)

    def close(self) -> None:
        for a in self._actors:
            self.ray.kill(a)
        self._actors = []


class RemoteEmbedder:
    """The driver's Embedder, with ``embed_passages`` run on the cluster.  Everything else (the
    model id, the prefixes, the dimension) is the local one's, so the cache keys and the manifest
    are a local build's."""

    REMOTE = ("embed_passages",)

    def __init__(self, local, cluster: Cluster, settings):
        self._local, self._cluster, self._settings = local, cluster, settings

    def __getattr__(self, name):
        if name in self.REMOTE:
            return lambda texts, show_progress=False: self._cluster.encode(self._local, self._settings, name, list(texts))
        return getattr(self._local, name)

    @property
    def parallel(self) -> int:
        """How many batches the cluster encodes at once (the build sends that many per step)."""
        return self._cluster.cpus()
