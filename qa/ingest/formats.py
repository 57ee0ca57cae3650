"""File formats besides plain text: PDF, DOCX, Markdown, HTML -> decoded text + metadata.

Every extractor returns ``(text, encoding, meta)``; the text then goes through the same
cleaning as a ``.txt`` file (:func:`qa.ingest.read.split_blocks`), so the "lines" of a
passage are lines of the *extracted* text.  What those lines mean per format:

* ``.md``   one extracted line per line of the file (syntax removed in place), so line
  numbers are the file's own line numbers.
* ``.html`` one extracted line per block element (p, li, h1..h6, tr, br ...);
  :func:`qa.ingest.read.read_document` maps them back to the line of the ``.html`` file where
  the text starts, so line numbers are the file's own line numbers.
* ``.docx`` one extracted line per paragraph (and per table row) in document order:
  "line N" is paragraph N (``meta["unit"] == "paragraph"``).
* ``.pdf``  each page's text layer, pages joined with a newline; ``meta["pages"][i - 1]``
  is the 1-based page of extracted line ``i`` (a passage over lines a..b is on pages
  ``pages[a-1]..pages[b-1]``), see :func:`page_range`.

Paragraph starts (HTML/DOCX paragraphs, Markdown list items) are marked with an
ideographic indent, which the cleaning reads as "a new paragraph starts here"; headings
(h1..h6, DOCX Heading/Title styles) become Markdown headings.  Any failure of a parser on
a damaged or hostile file becomes :class:`IngestError` (also ``qa.ingest.read.IngestError``), so the build skips the
file with a warning instead of crashing.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
from html.parser import HTMLParser

from qa.ingest.errors import INDENT, IngestError  # noqa: F401 - both are also read from here
from qa.ingest.olddoc import SUFFIXES as OLD_WORD, read_doc
from qa.ingest.tables import add_pdf_tables, row_lines
from qa.messages import Msg

log = logging.getLogger(__name__)



# --------------------------------------------------------------------------- text and its encoding


def decode_bytes(data: bytes, name: str = "<bytes>") -> tuple[str, str]:
    """Return (text, encoding).  UTF-8 (with or without BOM), UTF-16/32 with BOM, GB18030
    (a superset of GBK/GB2312), then charset-normalizer's best guess.  Binary or
    undecodable data raises :class:`IngestError`."""
    if not data.strip():
        raise IngestError(f"{name}: file is empty")
    boms = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
            (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]
    for bom, enc in boms:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(enc), name), enc
            except UnicodeDecodeError as e:
                raise IngestError(f"{name}: has a {enc} byte-order mark but does not decode: {e}") from e
    if b"\x00" in data[:4096]:
        enc = _utf16_without_bom(data)
        if enc is None:
            raise IngestError(Msg("read.nul", "{name}: looks binary (NUL bytes), not a text file",
                              "{name}：像是二进制文件（含 NUL 字节），不是文本", name=name))
        return _check_text(data.decode(enc), name), enc
    for enc in ("utf-8", "gb18030"):
        try:
            return _check_text(data.decode(enc), name), enc
        except UnicodeDecodeError:
            continue
    mixed = _decode_lines(data, name)
    if mixed is not None:
        return mixed
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise IngestError(Msg("read.encoding", "{name}: cannot detect a text encoding (binary or damaged file)",
                              "{name}：无法识别文本编码（二进制或损坏的文件）", name=name))
    return _check_text(str(best), name), best.encoding


def _plausible(text: str) -> float:
    """Share of characters that ordinary text is made of (CJK, Latin, digits, punctuation, spaces)."""
    if not text:
        return 0.0
    ok = sum(1 for c in text if c.isprintable() or c in "\t\n\r\u3000")
    ok -= sum(1 for c in text if 0xE000 <= ord(c) <= 0xF8FF or 0xD800 <= ord(c) <= 0xDFFF)
    return ok / len(text)


def _utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le" / "utf-16-be" when NUL-bearing bytes read as ordinary text in that byte
    order (Chinese or English written as UTF-16 by a tool that left out the byte-order mark),
    else None.  ASCII in UTF-16 puts its NULs on one side; CJK text has NULs only in its line
    breaks and digits, so the decoded text is judged, not the NULs."""
    if len(data) % 2:
        return None
    best, best_score = None, 0.0
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            text = data[:20000].decode(enc)
        except UnicodeDecodeError:
            continue
        cjk_or_ascii = sum(1 for c in text if c < "\x80" or "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef")
        score = min(_plausible(text), cjk_or_ascii / max(len(text), 1))
        if score > best_score:
            best, best_score = enc, score
    if best is None or best_score < 0.95:
        return None
    try:
        data.decode(best)
    except UnicodeDecodeError:
        return None
    return best


def _decode_lines(data: bytes, name: str) -> tuple[str, str] | None:
    """A file that is neither all UTF-8 nor all GB18030, read line by line: each line as UTF-8,
    else as GB18030 (a file pasted together from two sources); lines that decode as neither are
    left empty (the line numbers stay) and named in a warning.  None when the file does not look
    like that (too many lines fail: binary, or another encoding)."""
    lines = data.split(b"\n")
    out, kinds, bad = [], set(), []
    for no, raw in enumerate(lines, 1):
        for enc in ("utf-8", "gb18030"):
            try:
                out.append(raw.decode(enc))
                if not raw.isascii():
                    kinds.add(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append("")
            bad.append(no)
    text_lines = sum(1 for raw in lines if raw.strip())
    if "utf-8" not in kinds or not text_lines or len(bad) > max(2, text_lines // 10):
        return None  # no UTF-8 line beside the others (Latin-1, Big5...): charset-normalizer's guess
    text = _check_text("\n".join(out), name)
    label = "+".join(sorted(kinds)) or "utf-8"
    if bad:
        shown = ", ".join(map(str, bad[:20])) + (f" and {len(bad) - 20} more" if len(bad) > 20 else "")
        log.warning("%s: %s %s as neither UTF-8 nor GB18030; left out", name,
                    "lines" if len(bad) > 1 else "line", shown + (" decode" if len(bad) > 1 else " decodes"))
        label += f" (undecodable lines: {shown})"
    return text, label


def _check_text(text: str, name: str) -> str:
    sample = text[:20000]
    if not sample.strip():
        raise IngestError(f"{name}: file has no text")
    bad = sum(1 for c in sample if (ord(c) < 32 and c not in "\t\n\r\f") or 0xE000 <= ord(c) <= 0xF8FF)
    if bad > max(8, len(sample) // 50):
        raise IngestError(Msg("read.control", "{name}: looks binary ({bad} control characters in the first {n})",
                              "{name}：像是二进制文件（前 {n} 个字符中有 {bad} 个控制字符）", name=name, bad=bad, n=len(sample)))
    return text


def extract(suffix: str, data: bytes, name: str, ocr=None) -> tuple[str, str, dict]:
    """(text, encoding label, meta) of a file's bytes, by suffix (".pdf", ".docx", ...).  ``ocr``
    (:class:`qa.ingest.ocr.OcrJob`): scanned PDF pages and images are read by OCR."""
    from qa.ingest.ocr import IMAGE_SUFFIXES, OcrJob, read_image

    if suffix.lower() in IMAGE_SUFFIXES or suffix.lower() == ".pdf":
        job = ocr if ocr is not None else OcrJob(None, "")
        fn = read_image if suffix.lower() in IMAGE_SUFFIXES else read_pdf
        return _extract_with(lambda d, n: fn(d, n, job), suffix, data, name)
    fn = EXTRACTORS.get(suffix.lower())
    if fn is None:
        text, enc = decode_bytes(data, name)
        return text, enc, {"format": "txt"}
    return _extract_with(fn, suffix, data, name)


def _extract_with(fn, suffix: str, data: bytes, name: str) -> tuple[str, str, dict]:
    try:
        return fn(data, name)
    except IngestError:
        raise
    except RecursionError as e:
        raise IngestError(f"{name}: too deeply nested to read ({e})") from e
    except Exception as e:  # noqa: BLE001 - a parser failing on a damaged file is a skipped file
        raise IngestError(f"{name}: cannot read this {suffix} file ({type(e).__name__}: {e})") from e


def ocr_region(meta: dict, start_line: int, end_line: int) -> tuple[bool, list]:
    """Did extracted lines start_line..end_line come from OCR, and their outline on each page:
    ``[[page, x0, y0, x1, y1], ...]`` (fractions of the page), for the viewer."""
    boxes = meta.get("ocr_boxes") if meta else None
    if not boxes:
        return False, []
    pages = meta["pages"]
    by_page: dict[int, list] = {}
    for i in range(max(start_line, 1) - 1, min(end_line, len(boxes))):
        b = boxes[i]
        if b is not None:
            u = by_page.setdefault(pages[i], list(b))
            u[:] = [min(u[0], b[0]), min(u[1], b[1]), max(u[2], b[2]), max(u[3], b[3])]
    return bool(by_page), [[p, *u] for p, u in sorted(by_page.items())]


def page_range(meta: dict, start_line: int, end_line: int) -> tuple[int, int] | None:
    """(first page, last page) of extracted lines start_line..end_line of a PDF, else None."""
    pages = meta.get("pages") if meta else None
    if not pages:
        return None
    a = pages[min(max(start_line, 1), len(pages)) - 1]
    b = pages[min(max(end_line, 1), len(pages)) - 1]
    return a, b


# --------------------------------------------------------------------------- PDF


def read_pdf(data: bytes, name: str, ocr=None) -> tuple[str, str, dict]:
    """A PDF's text layer, page by page; a page without one is read by OCR when ``ocr`` (an
    :class:`qa.ingest.ocr.OcrJob`) is given."""
    import logging

    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise IngestError(f"{name}: not a PDF file (no %PDF header)")
    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            ok = reader.decrypt("")
        except Exception as e:  # noqa: BLE001
            raise IngestError(f"{name}: the PDF is encrypted ({e})") from e
        if not ok:
            raise IngestError(f"{name}: the PDF is encrypted with a password")
    texts, failed = [], []
    for no, page in enumerate(reader.pages, start=1):
        try:
            texts.append(page.extract_text() or "")
        except Exception as e:  # noqa: BLE001 - one bad page does not lose the others
            failed.append(f"page {no}: {type(e).__name__}")
            texts.append("")
    add_pdf_tables(texts, data, name)  # a page with a ruled table: its rows, each with its header
    scanned = [no for no, t in enumerate(texts, 1) if not t.strip()]  # a failed page too: OCR may read it
    got, skipped = {}, []
    if scanned and ocr is not None:  # pages without a text layer go through OCR (qa/ingest/ocr.py)
        from qa.ingest.ocr import ocr_pages, pdf_renderer

        got, skipped = ocr_pages(ocr, scanned, pdf_renderer(data))
    out = {"lines": [], "pages": [], "boxes": []}
    for no, text in enumerate(texts, start=1):
        if no in got:
            from qa.ingest.ocr import put_lines

            put_lines(out, no, got[no])
            continue
        page_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if page_lines and page_lines[-1] == "":
            page_lines.pop()
        page_lines = page_lines or [""]
        out["lines"] += page_lines
        out["pages"] += [no] * len(page_lines)
        out["boxes"] += [None] * len(page_lines)
    if not any(line.strip() for line in out["lines"]):
        raise IngestError(f"{name}: the PDF has no text layer (a scan?) - nothing to index"
                          + (f"; unreadable {', '.join(failed)}" if failed else "")
                          + (f"; {'; '.join(skipped)}" if skipped else ""))
    meta = {"format": "pdf", "pages": out["pages"], "page_count": len(reader.pages)}
    if got:
        meta["ocr_boxes"], meta["ocr_pages"] = out["boxes"], sorted(got)
    if failed:
        meta["unreadable_pages"] = failed
    if skipped:
        meta["skipped_pages"] = skipped
    return "\n".join(out["lines"]), "pdf+ocr" if got else "pdf", meta


# --------------------------------------------------------------------------- DOCX


# Limits on what a .docx (a zip) declares before any of it is inflated.  python-docx inflates
# every part into memory, and zipfile never returns more than a member's declared size, so the
# declared sizes bound the memory; the ratio catches a small file that inflates to a huge
# one (a 3 MB .docx whose document.xml is 1 GB; a 12.7 KB one that made 1,875 passages).  A
# real bulletin's document.xml compresses 5-20x; images barely compress.
DOCX_MAX_PARTS = 5_000  # members of the zip
DOCX_MAX_PART_BYTES = 64 * 1024 * 1024  # declared uncompressed size of one member
DOCX_MAX_TOTAL_BYTES = 200 * 1024 * 1024  # declared uncompressed size of all members together
DOCX_MAX_RATIO = 100  # uncompressed / compressed, for members over DOCX_RATIO_FROM bytes
DOCX_RATIO_FROM = 1024 * 1024


def check_zip(data: bytes, name: str) -> None:
    """Refuse a zip (.docx) whose declared sizes or compression ratios pass the limits above,
    naming the member and the limit; nothing is inflated here (the central directory only)."""
    import zipfile

    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        raise IngestError(f"{name}: not a readable .docx (zip) file ({e})") from e
    if len(infos) > DOCX_MAX_PARTS:
        raise IngestError(f"{name}: {len(infos):,} members, over the limit of {DOCX_MAX_PARTS:,} "
                          "(DOCX_MAX_PARTS); refused as a possible zip bomb")
    total = 0
    for i in infos:
        total += i.file_size
        if i.file_size > DOCX_MAX_PART_BYTES:
            raise IngestError(f"{name}: {i.filename} declares {i.file_size:,} bytes uncompressed, over the limit of "
                              f"{DOCX_MAX_PART_BYTES:,} for one member (DOCX_MAX_PART_BYTES); refused as a possible "
                              "zip bomb")
        if i.file_size > DOCX_RATIO_FROM and i.file_size > DOCX_MAX_RATIO * max(i.compress_size, 1):
            raise IngestError(f"{name}: {i.filename} inflates {i.file_size / max(i.compress_size, 1):,.0f} times "
                              f"({i.compress_size:,} -> {i.file_size:,} bytes), over the limit of {DOCX_MAX_RATIO} "
                              "(DOCX_MAX_RATIO); refused as a possible zip bomb")
    if total > DOCX_MAX_TOTAL_BYTES:
        raise IngestError(f"{name}: its members declare {total:,} bytes uncompressed together, over the limit of "
                          f"{DOCX_MAX_TOTAL_BYTES:,} (DOCX_MAX_TOTAL_BYTES); refused as a possible zip bomb")


def read_docx(data: bytes, name: str) -> tuple[str, str, dict]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_zip(data, name)
    d = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for el in d.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(_docx_paragraph(Paragraph(el, d)))
        elif tag == "tbl":  # one line per row, each keeping its header (qa/ingest/tables.py)
            rows = [[" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()) for cell in row.cells]
                    for row in Table(el, d).rows]
            lines += row_lines(rows)
    if not any(line.strip() for line in lines):
        raise IngestError(f"{name}: the document has no text")
    return "\n".join(lines), "docx", {"format": "docx", "unit": "paragraph"}


def _docx_paragraph(p) -> str:
    text = p.text.replace("\n", " ").replace("\r", " ").strip()
    if not text:
        return ""
    style = (p.style.name if p.style is not None else "") or ""
    if style.startswith("Heading") or style in ("Title", "Subtitle") or style.startswith("标题"):
        return "# " + text
    return INDENT + text


# --------------------------------------------------------------------------- HTML

_BLOCK = {"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header", "footer",
          "blockquote", "pre", "dd", "dt", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "title", "hr",
          "main", "nav", "aside", "figure", "figcaption", "caption", "form", "address"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6", "title"}
_DROP = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object"}
_CELL = "\ue000"  # where a table cell starts, inside a row's text (a private-use character)
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str, str]] = []  # (source line, kind, text)
        self.cur: list[str] = []
        self.cur_line = 0
        self.kind = "p"
        self.drop = 0  # depth inside script/style/...
        self.drop_tag: list[str] = []
        self.pre = 0
        self.title_seen = False
        self.tables = 0  # tables begun: the rows of one table are kept together

    def flush(self):
        text = "".join(self.cur)
        if not self.pre:
            text = " ".join(text.split())
        if self.kind == "tr" and text.strip():  # a table row: its cells, to keep with their header
            self.lines.append((self.cur_line, f"tr{self.tables}", text))
            self.cur, self.kind = [], "p"
            return
        else:
            text = text.strip("\n")
        if text.strip():
            if self.pre:
                for i, part in enumerate(text.split("\n")):
                    self.lines.append((self.cur_line + i, "p", part))
            else:
                self.lines.append((self.cur_line, self.kind, text))
        self.cur = []
        self.kind = "p"

    def handle_starttag(self, tag, attrs):
        if tag in _DROP:
            self.drop += 1
            self.drop_tag.append(tag)
            return
        if tag == "title" and self.title_seen:
            self.drop += 1
            self.drop_tag.append(tag)
            return
        if self.drop:
            return
        if tag in ("td", "th"):
            self.cur.append(_CELL)
            self.kind = "tr"
        elif tag in _BLOCK:
            self.flush()
            self.tables += tag == "table"
            if tag in _HEADINGS:
                self.kind = "h"
                self.title_seen |= tag == "title"
            if tag == "pre":
                self.pre += 1

    def handle_startendtag(self, tag, attrs):
        if not self.drop and tag in _BLOCK:
            self.flush()

    def handle_endtag(self, tag):
        if self.drop:
            if tag in self.drop_tag:
                while self.drop_tag:
                    self.drop -= 1
                    if self.drop_tag.pop() == tag:
                        break
            return
        if tag in _BLOCK:
            self.flush()
            if tag == "pre" and self.pre:
                self.pre -= 1

    def handle_data(self, data):
        if self.drop or not data:
            return
        if not "".join(self.cur).strip():
            # the extracted line starts where its first visible character is
            lead = len(data) - len(data.lstrip())
            self.cur_line = self.getpos()[0] + data[:lead].count("\n")
        self.cur.append(data)

    def close(self):
        super().close()
        self.flush()


def read_html(data: bytes, name: str) -> tuple[str, str, dict]:
    raw, enc = decode_bytes(data, name)
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    parser = _TextParser()
    parser.feed(raw)
    parser.close()
    if not parser.lines:
        raise IngestError(f"{name}: the page has no visible text")
    out, src, rows = [], [], []
    for i, (line, kind, text) in enumerate(parser.lines):
        if kind.startswith("tr"):  # a table's rows, ended by the next line of another kind
            rows.append((line, [c.strip() for c in text.split(_CELL)[1:]]))
            if i + 1 < len(parser.lines) and parser.lines[i + 1][1] == kind:
                continue
            for n, row_text in enumerate(row_lines([r for _, r in rows])):
                out.append(row_text)
                src.append(max(rows[min(n, len(rows) - 1)][0], src[-1] if src else 1))
            rows = []
            continue
        text = text.replace("\n", " ") if kind == "h" else text
        out.append(("# " if kind == "h" else INDENT) + text)
        src.append(max(line, src[-1] if src else 1))
    return "\n".join(out), enc, {"format": "html", "source_lines": src}


# --------------------------------------------------------------------------- Markdown
#
# markdown-it-py (a CommonMark parser) reads the file: blocks (headings, setext headings,
# lists, quotes, tables, fenced and indented code, HTML blocks, reference definitions, front
# matter aside), code spans, backslash escapes, entities, autolinks and inline HTML.  Its
# block tokens carry their source lines (``token.map``), so the text of each block is put
# back on the lines it came from and line numbers stay the file's own; inside a paragraph a
# line break is a softbreak/hardbreak token.  (A code span that runs over a line break is
# joined by the parser; the rest of that paragraph is then cited one line early at most.)
#
# Emphasis, strikethrough, link and image markers are not paired by the parser but removed
# from the unescaped text by the linear patterns below: the hand-written patterns that were
# here before were quadratic (20k characters of "__a " took 4 s), and markdown-it-py's own
# pairing, though linear, costs 0.6-0.8 s on 175 KB of "__a " or "[a " in pure Python
# (docs/figures.md, "Reliability"); for text extraction nothing is lost by not pairing: a run of * or ~~
# beside a non-space character goes, "a * b" stays, snake_case stays; [text](url) and
# ![alt](url) become text and alt.  Escaped characters (\\*) are kept as written.

_FRONT_END = ("---", "...")
_HTML_TAG = re.compile(r"<[^<>]*>")  # linear: a match never crosses another "<"
_MD_LINK = re.compile(r"!?\[([^\[\]\n]*)\](?:\([^()\n]*\)|\[[^\[\]\n]*\])")  # linear: scans stop at the next bracket
_MD_DELIM = re.compile(r"(?<!\s)(?:\*+|~~)|(?:\*+|~~)(?!\s)|(?<!\w)_+(?=\S)|(?<=\S)_+(?!\w)")
MARKDOWN_MAX_NESTING = 20  # block quotes / lists nested deeper are read as text (CommonMark preset's limit)

_md_parser = None


def _markdown_parser():
    global _md_parser
    if _md_parser is None:
        from markdown_it import MarkdownIt

        _md_parser = (MarkdownIt("commonmark", {"maxNesting": MARKDOWN_MAX_NESTING}).enable("table")
                      .disable(["emphasis", "link", "image", "text_join"]))
    return _md_parser


def _strip_inline(text: str) -> str:
    return _MD_DELIM.sub("", _MD_LINK.sub(r"\1", text))


def _inline_lines(tok) -> list[str]:
    """The visible text of an inline token, one entry per source line it spans."""
    lines = [""]
    for c in tok.children or []:
        t = c.type
        if t in ("softbreak", "hardbreak"):
            lines.append("")
        elif t == "text":
            lines[-1] += _strip_inline(c.content)
        elif t in ("text_special", "code_inline"):  # escapes and entities, code: as written
            lines[-1] += c.content
        elif t == "html_inline":
            lines += [""] * c.content.count("\n")  # the tag is dropped; its line breaks are kept
    return lines


def markdown_to_text(raw: str) -> str:
    """Markdown rendered to text line by line; the number of lines does not change."""
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    n = len(lines)
    if lines and lines[0].strip() == "---":  # YAML front matter: blank lines in its place
        for i in range(1, n):
            if lines[i].strip() in _FRONT_END:
                lines[: i + 1] = [""] * (i + 1)
                break
    out: list[list[str]] = [[] for _ in range(n)]

    def put(no: int, text: str, para: bool = False) -> None:
        text = text.strip()
        if text and 0 <= no < n:
            out[no].append(INDENT + text if para and not out[no] else text)

    tokens = _markdown_parser().parse("\n".join(lines))
    para_next = False  # the next paragraph starts a list item or a table row
    heading = False
    row: tuple[int, list[str]] | None = None  # a table row being collected: (line, cells)
    for tok in tokens:
        t = tok.type
        if t == "list_item_open":
            para_next = True
        elif t == "heading_open":
            heading = True
        elif t == "heading_close":
            heading = False
        elif t == "tr_open":
            row = (tok.map[0] if tok.map else -1, [])
        elif t == "tr_close" and row is not None:
            put(row[0], " ".join(c for c in row[1] if c), para=True)
            row = None
        elif t == "inline":
            parts = _inline_lines(tok)
            if row is not None:
                row[1].append(" ".join(p.strip() for p in parts if p.strip()))
                continue
            first, last = (tok.map[0], tok.map[1] - 1) if tok.map else (0, 0)
            if heading:
                put(first, "# " + " ".join(p.strip() for p in parts if p.strip()))
                continue
            for j, part in enumerate(parts):
                put(min(first + j, last), part, para=para_next and j == 0)
            para_next = False
        elif t in ("fence", "code_block") and tok.map:
            first = tok.map[0] + (1 if t == "fence" else 0)
            for j, part in enumerate(tok.content.split("\n")):
                put(first + j, part, para=True)
        elif t == "html_block" and tok.map:
            for j, part in enumerate(tok.content.split("\n")):
                put(tok.map[0] + j, _HTML_TAG.sub("", part))
    return "\n".join(" ".join(parts) for parts in out)


def read_markdown(data: bytes, name: str) -> tuple[str, str, dict]:
    raw, enc = decode_bytes(data, name)
    return markdown_to_text(raw), enc, {"format": "md"}


EXTRACTORS = {
    **dict.fromkeys(OLD_WORD, read_doc),
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
    ".md": read_markdown,
    ".markdown": read_markdown,
}
