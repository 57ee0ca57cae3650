"""Small file helpers that several stages share (no project imports, so any stage may use them)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Where things made once per machine are kept: the converted model, its int8 export, the
    English word vectors, the inverted lexicon (``BULLETIN_QA_CACHE``, default
    ``~/.cache/bulletin-qa``)."""
    root = os.environ.get("BULLETIN_QA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "bulletin-qa")
    return Path(root)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place: a reader sees the
    old file or the whole new one, and a killed writer leaves at most a stray temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
