"""Ingest stage, isolation: every file is read in a worker process with a memory and a time limit.

A hostile or damaged file (a zip bomb named .docx, a PDF built to expand, a Markdown or HTML
file that makes a parser crawl) must not take the build or the page down with it, nor hold the
interpreter lock that the page's searches need.  So :func:`qa.ingest.read.read_document` hands the
reading (bytes -> extractor -> cleaning -> :class:`qa.ingest.read.Document`) to a worker process:

* its address space is capped with ``resource.setrlimit(RLIMIT_AS)`` (``memory_mb``:
  ``Settings.read_memory_mb``, env ``BULLETIN_QA_READ_MEMORY_MB``): past it the parser gets
  ``MemoryError`` and the file is skipped, named;
* each file has ``seconds`` (``Settings.read_seconds``, env ``BULLETIN_QA_READ_SECONDS``) of wall
  time: past it the worker is killed (SIGKILL, by its pid) and the file is skipped, named; the
  next file gets a new worker;
* the worker is started with ``subprocess`` (fork+exec, safe in a threaded server) and imports
  only the ingest modules (``qa/__init__`` with torch and the models is not run), so it starts
  in about a second (jieba's dictionary) and is reused for the next files.

``BULLETIN_QA_READ_WORKER=0`` reads in the calling process instead (no limits; for debugging).
The idle workers are one pool per process (``_idle``, docs/architecture.md): child processes are
the process's own resource, and a worker started with another memory limit is not reused.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

START_SECONDS = 120.0  # for a worker to import its modules (a loaded machine is slow)

_HEAD = struct.Struct("<Q")

# The worker's program: `qa` is made a bare namespace (its __init__ imports torch and the
# models), then the ingest modules are imported, jieba is initialised and the limit is set.
_BOOT = r"""
import os, pickle, resource, struct, sys, types
qa_dir, mem = sys.argv[1], int(sys.argv[2])
pkg = types.ModuleType("qa"); pkg.__path__ = [qa_dir]; sys.modules["qa"] = pkg
out = os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)  # a stray print() of a parser cannot corrupt the replies
inp = sys.stdin.buffer
H = struct.Struct("<Q")

def send(obj):
    try:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        data = pickle.dumps(("memory", ""), protocol=pickle.HIGHEST_PROTOCOL)
    out.write(H.pack(len(data)) + data)
    out.flush()

from qa.ingest import read as ingest, formats, chunk  # noqa: E401,F401
ingest.jieba_ready()
for mod in ("charset_normalizer", "pypdf", "docx", "markdown_it", "langchain_text_splitters"):
    try:
        __import__(mod)
    except Exception:
        pass
if mem > 0:
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
send(("ready", os.getpid()))
while True:
    head = inp.read(H.size)
    if len(head) < H.size:
        break
    path, name, root, opts = pickle.loads(inp.read(H.unpack(head)[0]))
    try:
        doc = ingest.read_document_here(path, name, root, opts, report=send)
        if opts.get("chunking"):  # the whole preparation under the limits (issue 31, finding 7)
            doc.chunks = chunk.chunk_document(doc, *opts["chunking"])
        reply = ("ok", doc)
    except ingest.IngestError as e:
        reply = ("ingest", str(e))
    except MemoryError:
        reply = ("memory", "")
    except OSError as e:
        reply = ("oserror", (e.errno, e.strerror or str(e), e.filename))
    except RecursionError as e:
        reply = ("ingest", f"{name}: too deeply nested to read ({e})")
    except BaseException as e:  # noqa: BLE001
        reply = ("error", f"{type(e).__name__}: {e}")
    send(reply)
    if reply[0] == "memory":
        break  # the heap may be fragmented past use: a new worker takes the next file
"""


class WorkerGone(Exception):
    """The worker ended or stopped answering; it has been killed."""


class _Worker:
    def __init__(self, mem_mb: int):
        qa_dir = str(Path(__file__).resolve().parent.parent)  # the qa package
        self.mem_mb = mem_mb  # address space of the worker, its ~150 MB of modules included
        self.proc = subprocess.Popen([sys.executable, "-c", _BOOT, qa_dir, str(self.mem_mb * 1024 * 1024)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     close_fds=True)
        try:
            kind, _ = self._receive(time.monotonic() + START_SECONDS)
        except TimeoutError:
            raise WorkerGone("the reader process did not start in time") from None
        if kind != "ready":
            self.kill()
            raise WorkerGone(f"the reader process did not start ({kind})")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # our own child, by its pid
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass

    def _read_exact(self, n: int, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(n - len(buf), 1 << 20))
            if not chunk:
                raise EOFError
            buf += chunk
        return bytes(buf)

    def _receive(self, deadline: float):
        try:
            size = _HEAD.unpack(self._read_exact(_HEAD.size, deadline))[0]
            return pickle.loads(self._read_exact(size, deadline))
        except TimeoutError:
            self.kill()
            raise
        except (EOFError, OSError, pickle.UnpicklingError) as e:
            self.kill()
            raise WorkerGone(self._how_it_ended()) from e

    def _how_it_ended(self) -> str:
        rc = self.proc.poll()
        if rc is None:
            return "the reader process stopped answering"
        if rc < 0:
            import signal

            try:
                return f"the reader process was killed by {signal.Signals(-rc).name}"
            except ValueError:
                return f"the reader process was killed by signal {-rc}"
        return f"the reader process ended (exit code {rc})"

    def call(self, request, seconds: float):
        data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.proc.stdin.write(_HEAD.pack(len(data)) + data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            self.kill()
            raise WorkerGone(self._how_it_ended()) from e
        return self._receive(time.monotonic() + seconds)

    def receive(self, seconds: float):
        """The worker's next message, within ``seconds``."""
        return self._receive(time.monotonic() + seconds)


_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def _take(mem_mb: int) -> _Worker:
    with _idle_lock:
        while _idle:
            w = _idle.pop()
            if w.proc.poll() is None and w.mem_mb == mem_mb:
                return w
            w.kill()
    return _Worker(mem_mb)


def _give_back(w: _Worker) -> None:
    if w.proc.poll() is None:
        with _idle_lock:
            _idle.append(w)


@atexit.register
def _shutdown() -> None:
    with _idle_lock:
        workers, _idle[:] = list(_idle), []
    for w in workers:
        try:
            w.proc.stdin.close()  # the worker's loop ends on EOF
            w.proc.wait(timeout=2)
        except Exception:  # noqa: BLE001
            w.kill()


class _PageOver(Exception):
    """A page of a file passed a limit while it was read (OCR); the file is read again without it."""

    def __init__(self, page: int, why: str):
        super().__init__(page, why)
        self.page, self.why = page, why


def read(path: Path, name: str, root: Path | None, *, seconds: float, memory_mb: int, opts: dict | None = None,
         progress=None):
    """:class:`qa.ingest.read.Document` of ``path``, read (and with ``opts["chunking"]``, chunked)
    in a worker process within the limits: ``seconds`` of wall time (a 50 MB PDF's text layer fits
    in the default), ``memory_mb`` of address space.  A page that goes through OCR has ``seconds``
    of its own: one that passes it is named in ``meta["skipped_pages"]`` and the file is read again
    without it (the pages done come from the OCR cache).  ``progress(done, total)``: OCR pages."""
    from qa.ingest.formats import IngestError

    opts = dict(opts or {})
    skipped = dict(opts.get("skip_pages") or {})
    while True:
        opts["skip_pages"] = dict(skipped)
        try:
            return _read_once(path, name, root, seconds, memory_mb, opts, progress)
        except _PageOver as e:
            if e.page in skipped:  # no progress: the same page again
                raise IngestError(f"{name}: cannot be read (page {e.page}: {e.why}); skipped") from None
            skipped[e.page] = e.why


def _read_once(path: Path, name: str, root: Path | None, seconds: float, memory_mb: int, opts: dict, progress):
    from qa.ingest.formats import IngestError

    try:
        w = _take(memory_mb)
    except WorkerGone as e:
        raise IngestError(f"{name}: cannot be read ({e})") from None
    page = None  # the page being read by OCR, when one is
    try:
        reply = w.call((str(path), name, str(root) if root is not None else None, opts), seconds)
        while reply[0] == "page":  # ("page", page being started or None, pages done, pages)
            _, page, done, total = reply
            if progress:
                progress(done, total)
            reply = w.receive(seconds)
        kind, value = reply
    except TimeoutError:
        if page is not None:
            raise _PageOver(page, f"OCR took longer than the {seconds:g} s limit for one page "
                                  "(BULLETIN_QA_READ_SECONDS)") from None
        raise IngestError(f"{name}: reading it took longer than the {seconds:g} s limit for one file "
                          f"(BULLETIN_QA_READ_SECONDS); skipped") from None
    except WorkerGone as e:
        if page is not None:
            raise _PageOver(page, str(e)) from None
        raise IngestError(f"{name}: cannot be read ({e}); skipped") from None
    if kind == "ok":
        _give_back(w)
        return value
    if kind == "memory":
        w.kill()
        if page is not None:
            raise _PageOver(page, f"OCR needs more than the {w.mem_mb} MB memory limit (BULLETIN_QA_READ_MEMORY_MB)")
        raise IngestError(f"{name}: reading it needs more than the {w.mem_mb} MB memory limit for one file "
                          f"(BULLETIN_QA_READ_MEMORY_MB); skipped")
    _give_back(w)
    if kind == "ingest":
        raise IngestError(value)
    if kind == "oserror":
        errno, strerror, filename = value
        raise OSError(errno, strerror, filename)
    raise IngestError(f"{name}: cannot be read ({value})")
