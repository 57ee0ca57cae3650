"""File formats besides plain text: PDF, DOCX, Markdown, HTML -> decoded text + metadata.

Every extractor returns ``(text, encoding, meta)``; the text then goes through the same
cleaning as a ``.txt`` file (:func:`qa.ingest.split_blocks`), so the "lines" of a
passage are lines of the *extracted* text.  What those lines mean per format:

* ``.md``   one extracted line per line of the file (syntax removed in place), so line
  numbers are the file's own line numbers.
* ``.html`` one extracted line per block element (p, li, h1..h6, tr, br ...);
  :func:`qa.ingest.read_document` maps them back to the line of the ``.html`` file where
  the text starts, so line numbers are the file's own line numbers.
* ``.docx`` one extracted line per paragraph (and per table row) in document order:
  "line N" is paragraph N (``meta["unit"] == "paragraph"``).
* ``.pdf``  each page's text layer, pages joined with a newline; ``meta["pages"][i - 1]``
  is the 1-based page of extracted line ``i`` (a passage over lines a..b is on pages
  ``pages[a-1]..pages[b-1]``), see :func:`page_range`.

Paragraph starts (HTML/DOCX paragraphs, Markdown list items) are marked with an
ideographic indent, which the cleaning reads as "a new paragraph starts here"; headings
(h1..h6, DOCX Heading/Title styles) become Markdown headings.  Any failure of a parser on
a damaged or hostile file becomes :class:`qa.ingest.IngestError`, so the build skips the
file with a warning instead of crashing.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from .ingest import IngestError, decode_bytes

INDENT = "\u3000\u3000"  # marks the start of a paragraph for the cleaning


def extract(suffix: str, data: bytes, name: str) -> tuple[str, str, dict]:
    """(text, encoding label, meta) of a file's bytes, by suffix (".pdf", ".docx", ...)."""
    fn = EXTRACTORS.get(suffix.lower())
    if fn is None:
        text, enc = decode_bytes(data, name)
        return text, enc, {"format": "txt"}
    try:
        return fn(data, name)
    except IngestError:
        raise
    except RecursionError as e:
        raise IngestError(f"{name}: too deeply nested to read ({e})") from e
    except Exception as e:  # noqa: BLE001 - a parser failing on a damaged file is a skipped file
        raise IngestError(f"{name}: cannot read this {suffix} file ({type(e).__name__}: {e})") from e


def page_range(meta: dict, start_line: int, end_line: int) -> tuple[int, int] | None:
    """(first page, last page) of extracted lines start_line..end_line of a PDF, else None."""
    pages = meta.get("pages") if meta else None
    if not pages:
        return None
    a = pages[min(max(start_line, 1), len(pages)) - 1]
    b = pages[min(max(end_line, 1), len(pages)) - 1]
    return a, b


# --------------------------------------------------------------------------- PDF


def read_pdf(data: bytes, name: str) -> tuple[str, str, dict]:
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
    lines: list[str] = []
    pages: list[int] = []
    failed = []
    for no, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as e:  # noqa: BLE001 - one bad page does not lose the others
            failed.append(f"page {no}: {type(e).__name__}")
            text = ""
        page_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if page_lines and page_lines[-1] == "":
            page_lines.pop()
        if not page_lines:
            page_lines = [""]
        lines += page_lines
        pages += [no] * len(page_lines)
    if not any(line.strip() for line in lines):
        raise IngestError(f"{name}: the PDF has no text layer (a scan?) - nothing to index"
                          + (f"; unreadable {', '.join(failed)}" if failed else ""))
    meta = {"format": "pdf", "pages": pages, "page_count": len(reader.pages)}
    if failed:
        meta["unreadable_pages"] = failed
    return "\n".join(lines), "pdf", meta


# --------------------------------------------------------------------------- DOCX


def read_docx(data: bytes, name: str) -> tuple[str, str, dict]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    d = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for el in d.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(_docx_paragraph(Paragraph(el, d)))
        elif tag == "tbl":
            for row in Table(el, d).rows:
                cells = []
                for cell in row.cells:
                    t = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
                    if t and (not cells or cells[-1] != t):  # merged cells repeat
                        cells.append(t)
                lines.append(INDENT + " ".join(cells) if cells else "")
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

    def flush(self):
        text = "".join(self.cur)
        if not self.pre:
            text = " ".join(text.split())
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
            self.cur.append(" ")
        elif tag in _BLOCK:
            self.flush()
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
    out, src = [], []
    for line, kind, text in parser.lines:
        text = text.replace("\n", " ") if kind == "h" else text
        out.append(("# " if kind == "h" else INDENT) + text)
        src.append(max(line, src[-1] if src else 1))
    return "\n".join(out), enc, {"format": "html", "source_lines": src}


# --------------------------------------------------------------------------- Markdown

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_HR = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_LIST = re.compile(r"^\s{0,12}(?:[-*+]|\d{1,9}[.)])\s+")
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)|\[([^\]\n]+)\]\[[^\]\n]*\]")
_REFDEF = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*\S+.*$")
_EMPH = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1|(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?!\*)")
_CODE = re.compile(r"`+([^`\n]*)`+")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>\n]*)?/?>")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def markdown_to_text(raw: str) -> str:
    """Markdown syntax removed line by line; the number of lines does not change."""
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    fence = None
    front = bool(lines) and lines[0].strip() == "---"
    for i, line in enumerate(lines):
        if front:  # YAML front matter
            out.append("")
            if i > 0 and line.strip() in ("---", "..."):
                front = False
            continue
        m = _FENCE.match(line)
        if m:
            fence = None if fence == m.group(1) else (fence or m.group(1))
            out.append("")
            continue
        if fence:
            out.append(INDENT + line.strip() if line.strip() else "")
            continue
        if _SETEXT.match(line) and out and out[-1].strip() and not out[-1].startswith("#") \
                and not _HR.match(lines[i - 1]):
            out[-1] = "# " + out[-1].strip()
            out.append("")
            continue
        if _HR.match(line) or _TABLE_SEP.match(line) and "|" in line or _REFDEF.match(line):
            out.append("")
            continue
        para = False
        line = _QUOTE.sub("", line)
        if _LIST.match(line):
            line = _LIST.sub("", line)
            para = True
        if line.strip().startswith("|") or line.count("|") >= 2:
            line = " ".join(c.strip() for c in line.strip().strip("|").split("|") if c.strip())
            para = True
        line = _IMAGE.sub(r"\1", line)
        line = _LINK.sub(lambda m: m.group(1) or m.group(2), line)
        line = _CODE.sub(r"\1", line)
        for _ in range(3):
            line = _EMPH.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(3), line)
        line = _TAG.sub("", line)
        out.append(INDENT + line.strip() if para and line.strip() else line)
    return "\n".join(out)


def read_markdown(data: bytes, name: str) -> tuple[str, str, dict]:
    raw, enc = decode_bytes(data, name)
    return markdown_to_text(raw), enc, {"format": "md"}


EXTRACTORS = {
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
    ".md": read_markdown,
    ".markdown": read_markdown,
}
