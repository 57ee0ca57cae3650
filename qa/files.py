"""Small file helpers that several stages share (no project imports, so any stage may use them).
The cache folder they write into is given (``Settings.cache_dir``, qa/settings.py)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


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


def made_once(marker: Path, make) -> None:
    """Run ``make(folder)`` unless ``marker`` (a file in that folder) exists, under a file lock:
    two fresh processes make the folder once, the other waits for it.  ``make`` writes into a
    temporary folder and renames it into place, so a killed run leaves no half-made folder."""
    if marker.is_file():
        return
    from filelock import FileLock

    folder = marker.parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if not marker.is_file():
            make(folder)


def weights_sha256(path: Path, cache: Path) -> str:
    """sha256 of a model's weights file, remembered by the file's identity (path, size,
    modification time, inode) in the cache folder ``cache``, as make and rsync trust a file's stat: a
    process that starts does not read 470 MB again to name the model it loads (0.3 s).  A
    file changed in any of these is hashed again; a cache folder that cannot be written only
    costs the reading."""
    path = Path(path).resolve()
    st = path.stat()
    ident = hashlib.sha256(f"{path}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}".encode()).hexdigest()[:32]
    memo = Path(cache) / "hashes" / ident
    try:
        known = memo.read_text().strip()
        if len(known) == 64:
            return known
    except OSError:
        pass
    digest = file_sha256(path)
    try:
        write_atomic(memo, digest.encode())
    except OSError:
        pass
    return digest


def file_sha256(path: Path, _bufsize: int = 1 << 20) -> str:
    """sha256 of a file's bytes, read in pieces (a model's weights need not fit in memory twice)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_bufsize):
            h.update(chunk)
    return h.hexdigest()
