"""Ingest stage, tables: a table of a PDF, .docx or HTML bulletin as one line per row, each row
keeping its header, so that a passage holding a row can answer and cite a cell's figure:

    年份 | 社会工作者总数 | 持证社会工作者
    2023年 | 社会工作者总数 | 92.9万人 | 持证社会工作者 | 19.3万人。

The first row is the header when the table has two rows or more.  Each row line starts with its
first cell (the row's label), then every other cell after its column's header, and ends with a
full stop, so that the cleaning keeps each row a block and the highlight can pick the row that
holds the figure asked.  A row whose cells repeat (merged cells) keeps one of each.
"""

from __future__ import annotations

import logging

from qa.ingest.errors import INDENT

log = logging.getLogger(__name__)

PDF_TABLE_PAGES = 50  # pdfplumber looks for tables in PDFs of at most this many pages (it is slow)


def _clean(cell) -> str:
    return " ".join(str(cell or "").split())


def row_lines(rows: list[list]) -> list[str]:
    """The lines of one table (rows of cell texts), each starting a paragraph (:data:`INDENT`)."""
    rows = [[_clean(c) for c in r] for r in rows]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    if len(rows) == 1:
        return [INDENT + " | ".join(c for c in rows[0] if c) + "。"]
    head, out = rows[0], [INDENT + " | ".join(c for c in rows[0] if c)]
    for r in rows[1:]:
        parts, seen = [r[0]] if r[0] else [], set()
        for j, cell in enumerate(r[1:], 1):
            if not cell or (cell, head[j] if j < len(head) else "") in seen:
                continue
            seen.add((cell, head[j] if j < len(head) else ""))
            h = head[j] if j < len(head) and head[j] != cell else ""
            parts += [h, cell] if h else [cell]
        if parts:
            out.append(INDENT + " | ".join(parts) + "。")
    return out


def pdf_tables(data: bytes, page_count: int) -> dict[int, tuple[str, list[str]]]:
    """{page: (the page's text outside its tables, the tables' row lines)} for the pages of a
    PDF where pdfplumber finds a ruled table; {} for a PDF longer than :data:`PDF_TABLE_PAGES`."""
    if page_count > PDF_TABLE_PAGES:
        return {}
    import io

    import pdfplumber

    out = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for no, page in enumerate(pdf.pages, 1):
            found = page.find_tables()
            if not found:
                continue
            boxes = [t.bbox for t in found]

            def outside(obj, boxes=boxes):
                x, y = (obj.get("x0", 0) + obj.get("x1", 0)) / 2, (obj.get("top", 0) + obj.get("bottom", 0)) / 2
                return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

            text = page.filter(outside).extract_text() or ""
            lines = [line for t in found for line in row_lines(t.extract())]
            out[no] = (text, lines)
    return out


def add_pdf_tables(texts: list[str], data: bytes, name: str) -> None:
    """Replace, in ``texts`` (each page's text layer), a page holding a ruled table by its text
    outside the table and the table's row lines; a failure leaves the text layer as it is."""
    if not any(t.strip() for t in texts):
        return
    try:
        for no, (text, rows) in pdf_tables(data, len(texts)).items():
            texts[no - 1] = "\n".join([text] + rows)
    except Exception as e:  # noqa: BLE001 - the text layer as pypdf reads it stays
        log.warning("%s: tables not read (%s: %s)", name, type(e).__name__, e)
