"""The page's reads of the live index: its passages, its manifest's files, one article's text.
The store's insides are read here only (through the page's qa.Index, the one its searches use, so
the cards and the tables never disagree with the answer)."""

from __future__ import annotations

from qa.app.api import Index
from qa.index.base import IndexDamaged


def merge_overlapping(texts: list[str], max_overlap: int = 400) -> str:
    """Join consecutive passages of one article, dropping the text they share."""
    out = ""
    for t in texts:
        if not out:
            out = t
            continue
        if t in out:
            continue
        n = 0
        for o in range(min(len(out), len(t), max_overlap), 0, -1):
            if out.endswith(t[:o]):
                n = o
                break
        out += t[n:] if n else "\n" + t
    return out


def live_passages(index: Index) -> list[dict]:
    """The live index's passages as dicts (text, source, title, start_line, end_line, article,
    doc_title, region, region_codes, date, issuer ...); [] when there is no readable index."""
    try:
        return index.store.passages
    except IndexDamaged:  # IndexMissing too
        return []


def indexed_files(index: Index) -> dict:
    """{file: {"title", "passages", "size", "sha256", "added"}} of the live index's manifest (the
    searched version's, so the table and the cards never disagree; no second load)."""
    try:
        return index.store.manifest.get("files", {})
    except IndexDamaged:
        return {}


def article_context(index: Index, source: str, article: int) -> tuple[str, str, int, int]:
    """(title, full text, first line, last line) of one article, from its passages."""
    try:
        group = index.store.article_passages(source, article)
    except IndexDamaged:  # IndexMissing too
        return "", "", 0, 0
    if not group:
        return "", "", 0, 0
    title = next((p["title"] for p in group if p.get("title")), "")
    return (title, merge_overlapping([p["text"] for p in group]),
            min(p["start_line"] for p in group), max(p["end_line"] for p in group))
