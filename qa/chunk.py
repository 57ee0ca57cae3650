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
import math
import re
from dataclasses import asdict, dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .formats import page_range
from .ingest import Block, Document, jieba_ready

CHUNK_SIZE = 300
CHUNK_OVERLAP = 60
_PUNCT = re.compile(r"^[\W_]+$")
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
    page_start: int | None = None  # PDF pages of the passage (None for other formats)
    page_end: int | None = None

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
    """Split a document into articles and give each its headline.

    Structure decides where articles end: at a credit line, or where a headline follows
    body text.  Which headline belongs to which article is decided by content, because
    page layouts scatter headlines (before their article, after its credit, or in a block
    at the top of the page): each headline line goes to the article that shares its most
    distinctive words (words found in few of the page's articles), the nearest article
    winning ties; a line whose words stand in every article (a running head such as
    "Social Work 05社会工作") is nobody's title."""
    arts: list[Article] = []
    heads: list[tuple[int, str, bool]] = []  # (index of the next article, line, follows a headline line)
    cur: Article | None = None
    prev_kind = None
    for b in doc.blocks:
        if b.kind == "heading":
            if cur is not None and cur.text_blocks:
                cur = None
            heads.append((len(arts) if cur is None else len(arts) - 1, b.text, prev_kind == "heading"))
            prev_kind = b.kind
            continue
        prev_kind = b.kind
        if cur is None:
            cur = Article("", [])
            arts.append(cur)
        cur.blocks.append(b)
        if b.kind == "credit":
            cur = None
    if not arts:
        return []
    if len(arts) == 1:  # every headline line is the one article's (what the weighing below gives)
        arts[0].title = join_title([line for _, line, _ in heads])
        return [a for a in arts if a.text_blocks]
    words = [_title_words("".join(x.text for x in a.blocks)) for a in arts]
    df: dict[str, int] = {}
    for ws in words:
        for w in ws:
            df[w] = df.get(w, 0) + 1
    n = len(arts)
    titles: list[list[str]] = [[] for _ in arts]
    last = None  # article that took the previous headline line
    for pos, line, follows in heads:
        tw = _title_words(line)
        names = _names(line)
        if follows and last is not None and not names:
            titles[last].append(line)  # a headline's second line names nobody new: same headline
            continue
        last = None
        weight = {w: (math.log(n / df[w]) if n > 1 else 1.0) * (3.0 if w in names else 1.0) for w in tw if w in df}
        scores = [sum(weight.get(w, 0.0) for w in tw if w in ws) for ws in words]
        best = max(scores) if scores else 0.0
        if best > 0:
            near = sorted(range(n), key=lambda i: (-scores[i], abs(i - pos) + (0.5 if i < pos else 0)))
            last = near[0]
        elif not weight or n == 1 or any(v > 0 for v in weight.values()) or not tw:
            # no shared word: the article it stands before (or, at the end, the one before it)
            last = min(pos, n - 1)
        if last is not None:
            titles[last].append(line)
    for a, t in zip(arts, titles):
        a.title = join_title(t)
    return [a for a in arts if a.text_blocks]


def _names(text: str) -> set[str]:
    """Place, person and organisation names (jieba POS ns/nr/nt), which identify an article best."""
    jieba_ready()
    import jieba.posseg

    return {w.word.lower() for w in jieba.posseg.cut(text) if w.flag in ("ns", "nr", "nt", "nrt")}


def _title_words(text: str) -> set[str]:
    return {w.lower() for w in jieba_ready().lcut(text) if len(w) >= 2 and not w.isspace() and not _PUNCT.match(w)}


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
            pages = page_range(doc.meta, lines[start], lines[end]) or (None, None)
            chunks.append(Chunk(doc.source, art.title, lines[start], lines[end], body, a_no, len(chunks), *pages))
    return chunks


def chunk_settings(chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> dict:
    """Everything that changes the passages; part of the index manifest."""
    return {"chunk_size": chunk_size, "chunk_overlap": chunk_overlap, "separators": SEPARATORS,
            "embed_text": "title+text", "code": _code_fingerprint()}


def _code_fingerprint() -> str:
    """Hash of the reading, cleaning and chunking code: a change to it re-chunks every file
    (texts already embedded are still reused from the embedding cache)."""
    from pathlib import Path

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in ("ingest.py", "formats.py", "chunk.py"):
        f = here / name
        if f.exists():
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a passage (ends 。！？； and half-width forms)."""
    return [(m.start(), m.end()) for m in _SENT.finditer(text) if m.group(0).strip()]
