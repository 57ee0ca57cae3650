"""Ingest stage: read a bulletin file and clean what PDF extraction did to it.

Output is a :class:`Document`: a list of :class:`Block` (heading, text, credit or byline),
each with its cleaned text and, for every character, the 1-based line of the original
file it came from, so that any span of cleaned text can be cited by line range.

The cleaning is general, not per file:

* line breaks inside sentences are joined (also across the blank lines that column breaks
  leave), a block ends at sentence-final punctuation, at an indented line, at a heading;
* U+FFFD is removed (a leading "� � " is the extractor's paragraph indent);
* spaces between Chinese characters (and between Chinese and digits) are removed;
* a known mis-decoding of full-width symbols (the extractor read the symbol font's
  codes one GB2312 row too far: （→渊, ）→冤, ：→院, ＋→垣, ■→姻) is repaired where the file
  shows its signature, and only in contexts where the real character cannot stand.
"""

from __future__ import annotations

import hashlib
import os
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from qa.ingest.formats import IngestError, decode_bytes, extract  # noqa: F401 - the errors live with the readers
from qa.ingest.ocr import IMAGE_SUFFIXES, OcrJob
from qa.ingest.olddoc import SUFFIXES as OLD_WORD
from qa.text.chars import CJK, jieba_ready


SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx") + OLD_WORD + IMAGE_SUFFIXES  # see qa/ingest/formats.py
MAX_FILE_BYTES = 50 * 1024 * 1024

CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014"
FINAL = "。！？!?；;…"
CLOSERS = "”’」』）)》】\"'"
SENTENCE_PUNCT = re.compile(r"[，。！？；,!?;]")


@dataclass
class Block:
    kind: str  # "heading" | "text" | "credit" | "byline"
    text: str
    lines: list[int]  # original 1-based line of each character of text

    @property
    def first_line(self) -> int:
        return self.lines[0]

    @property
    def last_line(self) -> int:
        return self.lines[-1]


@dataclass
class Document:
    source: str
    blocks: list[Block]
    encoding: str
    sha256: str
    size: int
    meta: dict = field(default_factory=dict)
    chunks: list | None = None  # its passages, when it was read with ``chunking``

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks)


# --------------------------------------------------------------------------- decoding


# --------------------------------------------------------------------------- line cleaning

_SPACE_CJK = re.compile(rf"(?<=[{CJK}{CJK_PUNCT}])[ \t\u3000\u00a0]+(?=[{CJK}{CJK_PUNCT}0-9])"
                        rf"|(?<=[{CJK}{CJK_PUNCT}0-9])[ \t\u3000\u00a0]+(?=[{CJK}{CJK_PUNCT}])")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
# The mis-decoded symbol font: a file shows it when a credit or a byline carries it.
_ARTEFACT_SIGNATURE = re.compile(r"渊据[^渊冤\n]{1,60}冤|^\s*姻\s*本报", re.M)
_PAREN_PAIR = re.compile(r"渊([^渊冤\n]{0,80})冤")
_PLUS = re.compile(rf"(?<=[{CJK}A-Za-z0-9”）)])垣(?=[{CJK}A-Za-z0-9“（(])")
_PLUS_WORDS = set("城宫墙残断颓")  # 城垣, 宫垣 ...: the real 垣
_BULLET = re.compile(r"(?<![婚联])姻(?=\s*(本报|记者|通讯员|[A-Za-z0-9]))")
_COLON_LINE = re.compile(rf"^([{CJK}]{{2,10}})院$")
_COLON_WORDS = set("医法学究务老利剧书校养道寺影戏庭科研园议商疗宅馆")  # 医院, 法院, 学院 ...


def _fix_symbol_font(line: str) -> str:
    line = _PAREN_PAIR.sub(r"（\1）", line)
    line = _PLUS.sub(lambda m: "垣" if line[m.start() - 1] in _PLUS_WORDS else "+", line)
    line = _BULLET.sub("■", line)
    m = _COLON_LINE.match(line.strip())
    if m and m.group(1)[-1] not in _COLON_WORDS:
        line = m.group(1) + "："
    return line


def clean_line(line: str, symbol_font: bool = False) -> tuple[str, bool]:
    """Clean one original line; returns (text, indented)."""
    indented = bool(re.match(r"^[\s\u3000]*\ufffd[\s\u3000\ufffd]*\S", line)) or bool(
        re.match(r"^[ \u3000\t]+\S", line))
    line = line.replace("\ufffd", "")
    line = _CTRL.sub("", line)
    line = _SPACE_CJK.sub("", line)
    if symbol_font:  # after the space removal, so that a second cleaning changes nothing
        line = _fix_symbol_font(line)
    line = re.sub(r"[ \t\u3000\u00a0]{2,}", " ", line).strip()
    return line, indented


# --------------------------------------------------------------------------- blocks

_CREDIT = re.compile(r"^[（(]\s*据[^（）()]{1,60}[）)]$")
_BYLINE = re.compile(r"^[■□◆●▲]?\s*(本报记者|本报通讯员|记者|通讯员)\s*\S")
_MD_HEADING = re.compile(r"^(#{1,6}\s+)+")


def _ends_sentence(text: str) -> bool:
    t = text.rstrip(CLOSERS)
    return bool(t) and t[-1] in FINAL


def _join(a: str, b: str) -> str:
    """The separator when a line break inside a paragraph is removed."""
    if a and b and re.match(r"[A-Za-z0-9%.,]", a[-1]) and re.match(r"[A-Za-z0-9]", b[0]):
        return " "
    return ""


def _word_spans(line: str, nxt: str) -> bool:
    """True when a word runs across the line break (建|设, 人|才): the line was wrapped
    mid-phrase, so it is not a headline."""
    jieba = jieba_ready()
    a, b = line[-3:], nxt[:3]
    pos = 0
    for tok in jieba.cut(a + b, HMM=False):
        if pos < len(a) < pos + len(tok) and re.match(rf"[{CJK}]{{2}}", a[-1] + b[0]):
            return True
        pos += len(tok)
    return False


def _line_kinds(lines: list[tuple[int, str, bool, bool]]) -> list[str]:
    """heading / credit / byline / text for each cleaned line.

    A heading is a line without sentence punctuation that starts after a sentence (or a
    heading, credit, byline) ended, whose next line does not simply finish its phrase,
    and which is "strong" (markdown, or clearly shorter or longer than the page's usual
    line width) or stands next to a strong heading line (two-line headlines)."""
    # the page's line width, from lines of running text (they carry sentence punctuation;
    # headlines do not, and in a short file they would weigh on the median)
    widths = [len(t) for _, t, _, md in lines if not md and SENTENCE_PUNCT.search(t)] or \
        [len(t) for _, t, _, md in lines if not md and len(t) >= 4]
    width = statistics.median(widths) if widths else 20
    kinds = []
    for _, text, _, md in lines:
        if md:
            kinds.append("heading")
        elif _CREDIT.match(text):
            kinds.append("credit")
        elif _BYLINE.match(text) and len(text) <= 30:
            kinds.append("byline")
        else:
            kinds.append("text")
    cand, strong = [False] * len(lines), [False] * len(lines)
    after_credit = False  # lines right after a credit (headlines printed below their article)
    for i, (_, text, _, md) in enumerate(lines):
        after_credit = i > 0 and (kinds[i - 1] == "credit" or (after_credit and cand[i - 1]))
        if kinds[i] != "text" or i + 1 >= len(lines):
            continue
        prev = lines[i - 1][1] if i else None
        # a page's first line (running head, deck) ends before the next one, unless a word
        # runs across the break
        boundary = (i == 0 or (i == 1 and not _word_spans(prev, text)) or kinds[i - 1] != "text"
                    or cand[i - 1] or _ends_sentence(prev))
        if (boundary and 3 <= len(text) <= 48 and not SENTENCE_PUNCT.search(text) and text.count("、") < 2
                and not _ends_sentence(text) and not _word_spans(text, lines[i + 1][1])):
            cand[i] = True
            # a file's first line, a line after a credit, or one clearly off the line width
            strong[i] = i == 0 or after_credit or len(text) <= 0.7 * width or len(text) >= 1.2 * width
    for i in range(len(lines)):
        near = (i and strong[i - 1] and kinds[i - 1] == "heading") or (
            i + 1 < len(lines) and strong[i + 1] and cand[i + 1])
        if cand[i] and (strong[i] or near):
            kinds[i] = "heading"
    return kinds


def split_blocks(raw: str) -> list[Block]:
    """Turn decoded file text into cleaned blocks with their original line numbers."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    symbol_font = bool(_ARTEFACT_SIGNATURE.search(raw))
    lines = []  # (lineno, text, indented, markdown_heading)
    for no, original in enumerate(raw.split("\n"), start=1):
        text, indented = clean_line(original, symbol_font)
        md = bool(_MD_HEADING.match(text))
        if md:
            text = _MD_HEADING.sub("", text).strip()
        if text:
            lines.append((no, text, indented, md))
    if not lines:
        return []
    kinds = _line_kinds(lines)
    blocks: list[Block] = []
    for (no, text, indented, _md), kind in zip(lines, kinds):
        cur = blocks[-1] if blocks else None
        continues = (cur is not None and kind == "text" and cur.kind == "text" and not indented
                     and not _ends_sentence(cur.text))
        if continues:
            sep = _join(cur.text, text)
            cur.text += sep + text
            cur.lines += [cur.lines[-1]] * len(sep) + [no] * len(text)
        else:
            blocks.append(Block(kind, text, [no] * len(text)))
    return blocks


def clean(raw: str) -> tuple[str, list[int]]:
    """Cleaned text (blocks joined by newlines) and the original line of each character."""
    blocks = split_blocks(raw)
    text, lines = "", []
    for b in blocks:
        if text:
            text += "\n"
            lines.append(lines[-1])
        text += b.text
        lines += b.lines
    return text, lines


# --------------------------------------------------------------------------- files


def read_document(path: Path, source: str | None = None, *, root: Path | None = None,
                  settings=None, chunking: tuple[int, int] | None = None, progress=None) -> Document:
    """Read and clean one file, in a worker process with a memory and a time limit
    (:mod:`qa.ingest.worker`): a hostile file is skipped with :class:`IngestError` naming it.
    ``root``: the corpus folder; a file whose real path (symlinks resolved) is not inside it
    is refused.  ``settings`` (qa.settings.Settings, default ``Settings()``): the limits, whether
    to read in a worker at all, and the cache folder (OCR text is kept there by file hash).
    ``chunking``: (chunk size, overlap): the worker chunks the document too, so a file's whole
    preparation is under the limits (``Document.chunks``; None when read without a worker).  ``progress(done, total)``: pages read
    by OCR."""
    from qa.ingest import worker as readworker
    from qa.settings import Settings

    settings = settings if settings is not None else Settings()
    name = source or Path(path).name
    opts = {"chunking": chunking, "ocr_cache": str(settings.cache_dir / "ocr")}
    if not settings.read_worker:
        report = (lambda msg: progress(*msg[2:])) if progress else None
        return read_document_here(path, name, root, opts, report=report)
    scan = Path(path).suffix.lower() in IMAGE_SUFFIXES + (".pdf",)  # may need OCR, and its memory
    memory_mb = max(settings.read_memory_mb, settings.ocr_memory_mb) if scan else settings.read_memory_mb
    return readworker.read(Path(path), name, root, seconds=settings.read_seconds, memory_mb=memory_mb,
                           opts=opts, progress=progress)


def inside(path: Path, root: Path) -> bool:
    """True when ``path``, symlinks resolved, is ``root`` or inside it."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def read_document_here(path, name: str, root=None, opts: dict | None = None, report=None) -> Document:
    """:func:`read_document` in this process, without limits (the worker runs this, and chunks
    the document when ``opts["chunking"]``).  ``opts``: "ocr_cache", "skip_pages" ({page: why});
    ``report(message)``: OCR progress,
    ``("page", page or None, done, total)``."""
    opts = opts or {}
    path = Path(path)
    if root is not None and not inside(path, root):
        raise IngestError(f"{name}: its real path is outside the corpus folder (a symlink?); not read")
    real = os.path.realpath(path)  # the checked path is the one opened, whatever the link does next
    with open(real, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise IngestError(f"{name}: {size} bytes is larger than the {MAX_FILE_BYTES}-byte limit")
        data = f.read(min(size, MAX_FILE_BYTES) + 1)  # no 50 MB buffer for a small file
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(f"{name}: larger than the {MAX_FILE_BYTES}-byte limit")
    sha = hashlib.sha256(data).hexdigest()
    ocr = OcrJob(opts.get("ocr_cache"), sha, dict(opts.get("skip_pages") or {}), report)
    text, encoding, meta = extract(path.suffix.lower(), data, name, ocr=ocr)
    blocks = split_blocks(text)
    if not blocks:
        raise IngestError(f"{name}: no text left after cleaning"
                          + (f" ({'; '.join(meta['skipped_pages'])})" if meta.get("skipped_pages") else ""))
    src = meta.pop("source_lines", None)
    if src:  # HTML: cite the lines of the .html file, not of the extracted text
        for b in blocks:
            b.lines = [src[n - 1] for n in b.lines]
    return Document(name, blocks, encoding, sha, len(data), meta)


def _corpus_files(corpus: Path) -> list[Path]:
    """Regular files under ``corpus`` (hidden ones excepted).  Folder symlinks are not followed
    (``rglob``); a file symlink is listed here and sorted by :func:`outside_files`."""
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus} does not exist")
    return sorted(p for p in corpus.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(corpus).parts))


def list_corpus(corpus: Path) -> list[Path]:
    """The files of the corpus folder that can be read (by suffix), hidden ones and those whose
    real path is outside the folder (symlinks to elsewhere: :func:`outside_files`) excepted."""
    return [p for p in _corpus_files(corpus) if p.suffix.lower() in SUFFIXES and inside(p, corpus)]


def outside_files(corpus: Path) -> list[Path]:
    """Files of the corpus folder whose real path is elsewhere (a symlink to /etc/passwd):
    never read, reported by the build."""
    return [p for p in _corpus_files(corpus) if not inside(p, corpus)]


def unsupported_files(corpus: Path) -> list[Path]:
    """Files of the corpus folder that no reader takes (reported, never silently dropped)."""
    return [p for p in _corpus_files(corpus) if p.suffix.lower() not in SUFFIXES and inside(p, corpus)]
