"""Chunk stage: documents -> articles -> passages of at most ~300 characters.

Articles: a page of a bulletin holds several.  An article ends at its credit line
（据…）; a headline starts the next one.  In some layouts the extractor puts an
article's headline *after* its credit; a headline that directly follows a credit
whose article had no headline of its own is given to that article.

Passages are cut by langchain-text-splitters at paragraph, then sentence ends
(。！？； and half-width forms, kept at the end of their sentence), then commas.
Each carries its file, article title, original line range and text; ``embed_text``
adds the title as context so a passage that never names its place is still found.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .ingest import Block, Document

CHUNK_SIZE = 300
CHUNK_OVERLAP = 60
_SENT = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]*[”’」』）)]*")
SEPARATORS = ["\n", "。", "！", "？", "；", "!", "?", ";", "，", ",", "、", ""]


@dataclass
class Article:
    title: str
    blocks: list[Block]

    @property
    def text_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.kind in ("text", "byline")]


@dataclass
class Chunk:
    source: str
    title: str
    start_line: int
    end_line: int
    text: str
    article: int  # ordinal of the article within its file
    ordinal: int  # ordinal of the passage within its file

    @property
    def embed_text(self) -> str:
        """What the models see: the article title as context, then the passage."""
        return f"{self.title}\n{self.text}" if self.title and self.title not in self.text else self.text

    @property
    def key(self) -> str:
        return hashlib.sha256(self.embed_text.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict:
        return asdict(self)


def articles(doc: Document) -> list[Article]:
    out: list[Article] = []
    cur: Article | None = None
    last_closed_by_credit: Article | None = None
    pending_title: list[str] = []

    def flush_title():
        nonlocal cur, pending_title, last_closed_by_credit
        if not pending_title:
            return
        lines, pending_title = pending_title, []
        if last_closed_by_credit is not None and not last_closed_by_credit.title:
            # headline printed after the credit; a headline has at most two lines, the rest
            # belongs to the next article
            last_closed_by_credit.title = join_title(lines[:2])
            last_closed_by_credit = None
            lines = lines[2:]
            if not lines:
                return
        cur = Article(join_title(lines), [])
        out.append(cur)
        last_closed_by_credit = None

    for b in doc.blocks:
        if b.kind == "heading":
            if cur is not None and cur.text_blocks:
                cur = None
            pending_title.append(b.text)
            continue
        flush_title()
        if cur is None:
            cur = Article("", [])
            out.append(cur)
        cur.blocks.append(b)
        if b.kind == "credit":
            last_closed_by_credit = cur
            cur = None
        else:
            last_closed_by_credit = None
    flush_title()
    return [a for a in out if a.text_blocks]


def join_title(lines: list[str]) -> str:
    out = ""
    for line in lines:
        out += ("" if not out or out[-1] in "：:—-" else " ") + line
    return out


def make_splitter(chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS, keep_separator="end", chunk_size=chunk_size, chunk_overlap=chunk_overlap,
        add_start_index=True, strip_whitespace=True,
    )


def chunk_document(doc: Document, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> list[Chunk]:
    splitter = make_splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    for a_no, art in enumerate(articles(doc)):
        text, lines = "", []
        for b in art.text_blocks:
            if text:
                text += "\n"
                lines.append(b.lines[0])
            text += b.text
            lines += b.lines
        for piece in splitter.create_documents([text]):
            start = piece.metadata["start_index"]
            body = piece.page_content
            if start < 0:  # the splitter could not locate the piece; fall back to a search
                start = text.find(body)
            end = start + len(body) - 1
            chunks.append(Chunk(doc.source, art.title, lines[start], lines[end], body, a_no, len(chunks)))
    return chunks


def chunk_settings(chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> dict:
    """Everything that changes the passages; part of the index manifest."""
    return {"chunk_size": chunk_size, "chunk_overlap": chunk_overlap, "separators": SEPARATORS,
            "embed_text": "title+text", "version": 1}


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a passage (ends 。！？； and half-width forms)."""
    return [(m.start(), m.end()) for m in _SENT.finditer(text) if m.group(0).strip()]
