"""The corpus folder as the page (and a script) changes it: its files, an addition checked before
it is saved (a plain file name, the size limit, content a reader takes, no duplicate), a delete.

    >>> c = Corpus("corpus/", max_upload_bytes=5 * 1024 * 1024)
    >>> c.add("new.txt", data)          # (True, "✓ added new.txt (3.1 KB); press Rebuild index …")
    >>> c.files(), c.delete("new.txt")

One change at a time per :class:`Corpus` (its lock); a file's sha256 is remembered by its stat.
"""

from __future__ import annotations

import hashlib
import io
import threading
import unicodedata
import uuid
import zipfile
from pathlib import Path

from qa.files import file_sha256
from qa.ingest.formats import IngestError, decode_bytes
from qa.ingest.read import SUFFIXES, list_corpus, read_document

BAD_NAME_CHARS = set('<>:"|?*\\/')
MAX_NAME_BYTES = 200
HASHES_KEPT = 4096  # files whose sha256 is remembered (the oldest forgotten first)


def human_size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.1f} MB"


def check_name(name: str) -> str:
    """The file name to save under, or ValueError: a plain, visible name with an indexable suffix."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("the file has no name")
    name = unicodedata.normalize("NFC", name.strip())
    if "/" in name or "\\" in name or ".." in name:
        raise ValueError(f"{name!r}: give a plain file name (no folders, no '..')")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise ValueError(f"{name!r}: the file name contains control characters")
    if name.startswith("."):
        raise ValueError(f"{name!r}: hidden files (name starting with '.') are not accepted")
    if any(c in BAD_NAME_CHARS for c in name):
        raise ValueError(f"{name!r}: the file name contains one of {''.join(sorted(BAD_NAME_CHARS))}")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise ValueError(f"the file name is too long ({MAX_NAME_BYTES} bytes at most)")
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ValueError(f"{name!r}: only {', '.join(SUFFIXES)} files can be indexed")
    return name


def check_content(name: str, data: bytes, max_bytes: int) -> None:
    """ValueError unless the bytes look like a readable document of the file's type."""
    if len(data) > max_bytes:
        raise ValueError(f"{name}: {human_size(len(data))} is larger than the {human_size(max_bytes)} limit")
    if not data.strip():
        raise ValueError(f"{name}: the file is empty")
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise ValueError(f"{name}: not a PDF file")
    elif suffix == ".docx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" not in z.namelist():
                    raise ValueError(f"{name}: not a Word .docx document")
        except zipfile.BadZipFile:
            raise ValueError(f"{name}: not a Word .docx document") from None
    else:
        try:
            decode_bytes(data, name)
        except IngestError as e:
            raise ValueError(f"refused: {e}") from None


class Corpus:
    """A corpus folder: its indexable files, checked additions and deletions."""

    def __init__(self, folder, max_upload_bytes: int = 5 * 1024 * 1024, settings=None):
        self.folder = Path(folder)
        self.max_upload_bytes = max_upload_bytes
        self.settings = settings  # qa.settings.Settings: the read limits an addition is checked with
        self._lock = threading.Lock()
        self._hashes: dict[tuple, str] = {}

    def files(self) -> list[str]:
        """The indexable files, by their names relative to the folder."""
        if not self.folder.is_dir():
            return []
        return [p.relative_to(self.folder).as_posix() for p in list_corpus(self.folder)]

    def sha256(self, name: str) -> str:
        """sha256 of a file of the corpus, remembered by its size, modification time and path."""
        path = self.folder / name
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._hashes:
            if len(self._hashes) >= HASHES_KEPT:
                self._hashes.pop(next(iter(self._hashes)))
            self._hashes[key] = file_sha256(path)
        return self._hashes[key]

    def add(self, name: str, data: bytes) -> tuple[bool, str]:
        """Check one file and write it into the corpus; (saved, message)."""
        try:
            name = check_name(name)
            check_content(name, data, self.max_upload_bytes)
        except ValueError as e:
            return False, f"✗ {e}"
        corpus = self.folder
        corpus.mkdir(parents=True, exist_ok=True)
        target = corpus / name
        if target.resolve().parent != corpus.resolve():  # belt and braces: the name cannot leave the corpus
            return False, f"✗ {name!r}: not a plain file name"
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            for other in self.files():
                if self.sha256(other) == digest:
                    return False, f"✗ {name}: same content as {other}, which is already in the corpus"
            if target.exists():
                return False, f"✗ {name}: a different file with this name is already in the corpus (delete it first)"
            # the indexer must be able to read it: try it on a hidden staging file inside the corpus
            staging = corpus / f".upload-{uuid.uuid4().hex}{Path(name).suffix.lower()}"
            try:
                staging.write_bytes(data)
                try:
                    read_document(staging, name, settings=self.settings)
                except (IngestError, OSError, ValueError) as e:
                    return False, f"✗ refused: {e}"
                with open(target, "xb") as f:
                    f.write(data)
            except FileExistsError:
                return False, f"✗ {name}: a file with this name is already in the corpus"
            finally:
                staging.unlink(missing_ok=True)
        return True, f"✓ added {name} ({human_size(len(data))}); press Rebuild index to make it searchable"

    def delete(self, name: str) -> tuple[bool, str]:
        """Remove one file of the corpus, named as :meth:`files` names it; (deleted, message)."""
        if not name:
            return False, "✗ pick a bulletin to delete"
        with self._lock:
            if name not in self.files():
                return False, f"✗ {name!r} is not a file of the corpus"
            (self.folder / name).unlink()
        return True, f"✓ deleted {name}; press Rebuild index to drop its passages from the answers"
