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
from qa.messages import Msg, of_exception
from qa.ingest.formats import IngestError, decode_bytes
from qa.ingest.ocr import IMAGE_SUFFIXES
from qa.ingest.read import SUFFIXES, list_corpus, read_document

BAD_NAME_CHARS = set('<>:"|?*\\/')
MAX_NAME_BYTES = 200
HASHES_KEPT = 4096  # files whose sha256 is remembered (the oldest forgotten first)


def human_size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.1f} MB"


def check_name(name: str) -> str:
    """The file name to save under, or ValueError: a plain, visible name with an indexable suffix."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(Msg("corpus.no_name", "the file has no name", "文件没有名字"))
    name = unicodedata.normalize("NFC", name.strip())
    if "/" in name or "\\" in name or ".." in name:
        raise ValueError(Msg("corpus.folders", "{name!r}: give a plain file name (no folders, no '..')",
                             "{name!r}：请使用普通文件名（不含文件夹和“..”）", name=name))
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise ValueError(Msg("corpus.control", "{name!r}: the file name contains control characters",
                             "{name!r}：文件名含有控制字符", name=name))
    if name.startswith("."):
        raise ValueError(Msg("corpus.hidden", "{name!r}: hidden files (name starting with '.') are not accepted",
                             "{name!r}：不接受隐藏文件（以“.”开头）", name=name))
    if any(c in BAD_NAME_CHARS for c in name):
        raise ValueError(Msg("corpus.bad_chars", "{name!r}: the file name contains one of {chars}",
                             "{name!r}：文件名含有下列字符之一：{chars}", name=name, chars="".join(sorted(BAD_NAME_CHARS))))
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise ValueError(Msg("corpus.long_name", "the file name is too long ({n} bytes at most)",
                             "文件名过长（最多 {n} 字节）", n=MAX_NAME_BYTES))
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ValueError(Msg("corpus.suffix", "{name!r}: only {suffixes} files can be indexed",
                             "{name!r}：只能索引 {suffixes} 文件", name=name, suffixes=", ".join(SUFFIXES)))
    return name


def check_content(name: str, data: bytes, max_bytes: int) -> None:
    """ValueError unless the bytes look like a readable document of the file's type."""
    if len(data) > max_bytes:
        raise ValueError(too_large(name, human_size(len(data)), human_size(max_bytes)))
    if not data.strip():
        raise ValueError(Msg("corpus.empty", "{name}: the file is empty", "{name}：文件为空", name=name))
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise ValueError(Msg("corpus.not_pdf", "{name}: not a PDF file", "{name}：不是 PDF 文件", name=name))
    elif suffix == ".docx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" not in z.namelist():
                    raise zipfile.BadZipFile
        except zipfile.BadZipFile:
            raise ValueError(Msg("corpus.not_docx", "{name}: not a Word .docx document", "{name}：不是 Word .docx 文档",
                                 name=name)) from None
    elif suffix in IMAGE_SUFFIXES:  # a scan or a photo: read by OCR (qa/ingest/ocr.py)
        from PIL import Image

        try:
            Image.open(io.BytesIO(data)).verify()
        except Exception:  # noqa: BLE001 - whatever Pillow cannot open is no image
            raise ValueError(f"{name}: not a readable image") from None
    else:
        try:
            decode_bytes(data, name)
        except IngestError as e:
            raise ValueError(refused(e)) from None


def too_large(name: str, size: str, limit: str) -> Msg:
    return Msg("corpus.too_large", "{name}: {size} is larger than the {limit} limit", "{name}：{size} 超过了 {limit} 的上限",
               name=name, size=size, limit=limit)


def refused(e: BaseException) -> Msg:
    """A file a reader does not take: "refused: <the reader's reason>"."""
    return Msg("corpus.refused", "refused: {e}", "已拒绝：{e}", e=of_exception(e))


def failed(message) -> Msg:
    """"✗ <message>": a file that was not added."""
    return Msg("corpus.not_added", "✗ {m}", "✗ 未添加：{m}", m=message)


def not_deleted(message) -> Msg:
    """"✗ <message>": a file that was not deleted."""
    return Msg("corpus.not_deleted", "✗ {m}", "✗ 未删除：{m}", m=message)


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
            return False, failed(of_exception(e))
        corpus = self.folder
        corpus.mkdir(parents=True, exist_ok=True)
        target = corpus / name
        if target.resolve().parent != corpus.resolve():  # belt and braces: the name cannot leave the corpus
            return False, failed(Msg("corpus.not_plain", "{name!r}: not a plain file name", "{name!r}：不是普通文件名",
                                     name=name))
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            for other in self.files():
                if self.sha256(other) == digest:
                    return False, failed(Msg("corpus.same", "{name}: same content as {other}, which is already in the "
                                             "corpus", "{name}：内容与语料库中已有的 {other} 相同", name=name, other=other))
            if target.exists():
                return False, failed(Msg("corpus.other_same_name", "{name}: a different file with this name is already "
                                         "in the corpus (delete it first)", "{name}：语料库中已有同名的另一个文件（请先删除它）",
                                         name=name))
            # the indexer must be able to read it: try it on a hidden staging file inside the corpus
            staging = corpus / f".upload-{uuid.uuid4().hex}{Path(name).suffix.lower()}"
            try:
                staging.write_bytes(data)
                try:
                    read_document(staging, name, settings=self.settings)
                except (IngestError, OSError, ValueError) as e:
                    return False, failed(refused(e))
                with open(target, "xb") as f:
                    f.write(data)
            except FileExistsError:
                return False, failed(Msg("corpus.same_name", "{name}: a file with this name is already in the corpus",
                                         "{name}：语料库中已有同名文件", name=name))
            finally:
                staging.unlink(missing_ok=True)
        return True, Msg("corpus.added", "✓ added {name} ({size}); press Rebuild index to make it searchable",
                         "✓ 已添加 {name}（{size}）；点击“重建索引”后即可检索", name=name, size=human_size(len(data)))

    def delete(self, name: str) -> tuple[bool, str]:
        """Remove one file of the corpus, named as :meth:`files` names it; (deleted, message)."""
        if not name:
            return False, not_deleted(Msg("corpus.pick", "pick a bulletin to delete", "请选择要删除的简报"))
        with self._lock:
            if name not in self.files():
                return False, not_deleted(Msg("corpus.not_file", "{name!r} is not a file of the corpus", "{name!r} 不是语料库中的文件",
                                         name=name))
            (self.folder / name).unlink()
        return True, Msg("corpus.deleted", "✓ deleted {name}; press Rebuild index to drop its passages from the answers",
                         "✓ 已删除 {name}；点击“重建索引”后它的段落将不再出现在回答中", name=name)
