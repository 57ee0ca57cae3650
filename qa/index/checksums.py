"""The checksums of a folder index's version: every file's size and sha256 (and the sha256 of
sampled blocks, so that loading a large version need not read it whole).  A load checks them;
a build hashes the live version whole before it reuses anything from it."""

from __future__ import annotations

import hashlib
from pathlib import Path

FULL_CHECK_BYTES = 16 * 1024 * 1024  # files up to this size are hashed whole on every load
SAMPLE_BLOCKS = 64  # larger ones: this many blocks of SAMPLE_BYTES, spread evenly, are hashed
SAMPLE_BYTES = 64 * 1024


def _file_digest(path: Path, size: int) -> tuple[str, str]:
    """(sha256 of the whole file, sha256 of its sampled blocks)."""
    return _whole(path), _sample_digest(path, size)


def _sample_digest(path: Path, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        if size <= SAMPLE_BLOCKS * SAMPLE_BYTES:
            h.update(f.read())
        else:
            step = (size - SAMPLE_BYTES) // (SAMPLE_BLOCKS - 1)
            for i in range(SAMPLE_BLOCKS):
                f.seek(i * step)
                h.update(f.read(SAMPLE_BYTES))
    return h.hexdigest()


def checksums(folder: Path) -> dict:
    """{relative path: {"size", "sha256", "sample"}} of every file of a version but its manifest."""
    out = {}
    for f in sorted(folder.rglob("*")):
        if f.is_file() and f.name != "manifest.json":
            size = f.stat().st_size
            whole, sample = _file_digest(f, size)
            out[f.relative_to(folder).as_posix()] = {"size": size, "sha256": whole, "sample": sample}
    return out


def verify(folder: Path, sums: dict, full: bool = False) -> None:
    """Raise ValueError naming the first file of ``folder`` that is missing, of another size,
    or whose hash differs (whole for files up to FULL_CHECK_BYTES or when ``full``, else the
    sampled blocks).  Files that ``sums`` does not list are not looked at."""
    for rel, want in sums.items():
        f = folder / rel
        try:
            size = f.stat().st_size
        except FileNotFoundError:
            raise _Damage(f, "is missing") from None
        if size != want["size"]:
            raise _Damage(f, f"has {size:,} bytes, the index wrote {want['size']:,}")
        if full or size <= FULL_CHECK_BYTES:
            if _whole(f) != want["sha256"]:
                raise _Damage(f, "does not match its checksum (sha256)")
        elif _sample_digest(f, size) != want["sample"]:
            raise _Damage(f, "does not match its checksum (sampled blocks)")


def _whole(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _Damage(ValueError):
    def __init__(self, path: Path, what: str):
        super().__init__(what)
        self.path = path
