"""Chunk stage: documents -> articles -> passages of at most 500 characters (CHUNK_SIZE).

Articles: a page of a bulletin holds several.  An article ends at its credit line
（据…）; a headline starts the next one.  Page layouts put headlines before their
article, after its credit, beside it or in a block at the top of the page, so each
headline is given to the article whose distinctive words it shares (see :func:`articles`);
an article without one is titled by its first sentence.

Passages are cut by langchain-text-splitters at paragraph, then sentence ends
(。！？； and half-width forms, kept at the end of their sentence), then commas.
Each carries its file, article title, original line range and text; ``embed_text``
adds the title as context so a passage that never names its place is still found.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import asdict, dataclass, field

from qa.ingest.formats import ocr_region, page_range
from qa.ingest.read import Block, Document, _ends_sentence
from qa.text.chars import HAN, jieba_cut, jieba_ready
from qa.text.sentences import sentences
from qa.text.variants import simplified
from qa.ingest.masthead import read_masthead
from qa.ingest.metadata import METADATA_VERSION, describe

# Passage length in characters, and the overlap (a fifth of it).  Measured on every dev set at
# once (``python benchmarks/chunk_sizes.py``: fresh indexes, hybrid hit@1 of dev / extra /
# xquad en / xquad zh): 300 -> 0.95/0.825/0.827/0.940, 400 -> 0.90/0.85/0.851/0.943,
# 450 -> 1.00/0.85/0.850/0.949, 500 -> 1.00/0.90/0.858/0.958, 600 -> 1.00/0.875/0.874/0.953
# (README, "Passage length").  Longer passages keep a fact with the sentence that names its
# subject (a pronoun two sentences on no longer starts a new passage); the price is a longer card
# and a highlight chosen among more sentences (sentence@1 0.97 -> 0.92 on extra, 0.79 -> 0.76 on
# xquad zh).  e5's 512-token window holds 500 characters (at most 375 tokens on these corpora).
CHUNK_SIZE = 500
CHUNK_OVERLAP = 100
_PUNCT = re.compile(r"^[\W_]+$")
SEPARATORS = ["\n", "。", "！", "？", "；", "!", "?", ";", "，", ",", "、", ""]


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
    doc_title: str = ""  # the bulletin's name, its article's region, date and issuer (qa/ingest/metadata.py)
    region: str = ""
    region_codes: list = field(default_factory=list)
    date: str = ""
    issuer: str = ""
    issue: str = ""  # the issue of the publication (doc_title) and its date (qa/ingest/masthead.py)
    issue_date: str = ""
    headline: bool = True  # the title is a headline printed in the file, not made of the first sentence
    ocr: bool = False  # its text was read by OCR from a scan or a photo
    boxes: list = field(default_factory=list)  # OCR: its outline on each page, [[page, x0, y0, x1, y1]] (fractions)

    @property
    def embed_text(self) -> str:
        """What the models see: the article's headline as context, then the passage (not when
        the passage holds it already).  A title made of the article's first sentence is left
        out: it says nothing about a later passage and draws every passage of the article
        towards the first (on the xquad-dev articles, which have no headlines, leaving it out
        raised dense hit@1 from 0.84 to 0.87 on the Chinese questions).  Traditional Chinese is
        seen in Simplified characters (qa/text/variants.py), like the questions."""
        return context_text(simplified(self.title) if self.headline else "", simplified(self.text))

    @property
    def key(self) -> str:
        return hashlib.sha256(self.embed_text.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict:
        return asdict(self)


def context_text(title: str, text: str) -> str:
    """``text`` with the article's headline before it as context, unless it already holds it."""
    return f"{title}\n{text}" if title and title.rstrip("…") not in text else text


@dataclass
class Article:
    title: str
    blocks: list[Block]
    headline: bool = True  # False when the title is made of the first sentence

    @property
    def text_blocks(self) -> list[Block]:
        """Body blocks; a credit that some body text follows inside the same article (a
        trailing line that turned out to be no headline) stays in, so that a passage is
        always a contiguous stretch of the file."""
        last_text = max((i for i, b in enumerate(self.blocks) if b.kind in ("text", "byline")), default=-1)
        return [b for i, b in enumerate(self.blocks)
                if b.kind in ("text", "byline") or (b.kind == "credit" and i < last_text)]


@dataclass
class _Head:
    pos: int  # index of the article it stands before (len(arts) at the end of the file)
    text: str
    follows: bool  # directly after another headline line
    idx: int  # index of its block among the normalised blocks
    kind: str  # "heading" (ingest's), or a text line of headline form: "kicker" (above a
    # headline), "sub" (below one), "tail" (after an article's end)

    @property
    def tail(self) -> bool:
        return self.kind == "tail"


_CREDIT = re.compile(r"^[（(]\s*据[^（）()]{1,60}[）)]$")
_CREDIT_IN = re.compile(r"[（(]\s*据[^（）()]{1,60}[）)]")
_STOP = re.compile(r"[。！？；!?;]")
_COMMA = re.compile(r"[，,]")
_HAN = re.compile(f"[{HAN}]")


def articles(doc: Document) -> list[Article]:
    """Split a document into articles and give each its headline.

    Structure decides where articles end: at a credit line, or where a headline follows
    body text.  Headline lines are the blocks ingest marks as headings, plus text lines of
    headline form (short, no sentence punctuation) that stand where headlines stand: next
    to a headline (a kicker above it, a subheadline below it), or right after an article's
    end (after its credit, or last in the file: layouts that print a headline below its
    article).  Which headline belongs to which article is decided by content, because
    page layouts scatter headlines (before their article, after its credit, or in a block
    at the top of the page): each headline goes to the article that shares its most
    distinctive words (words found in few of the page's articles), the nearest article
    winning ties; a line whose words stand in every article (a running head such as
    "Social Work 05社会工作") is nobody's title.

    An article has one headline.  When two separate headlines go to one article, two
    articles ran together (the first ended without a credit): it is cut before the
    paragraph that names a place, person, organisation or number of the second headline
    (not of the first), where the text turns from the one headline's distinctive words
    to the other's (:func:`_split`).  A line taken as headline only for standing after an
    article, that no article claims alone, goes back to being text.  An article without
    a headline is titled by its first sentence (:func:`first_sentence`)."""
    blocks, derived = _normalise(doc.blocks[read_masthead(doc.blocks, doc.source).blocks:])  # no masthead line is a title
    arts, heads = _segment(blocks, derived)
    if not arts:
        return []
    groups, back = _headline_groups(heads, _assign(arts, heads), len(arts))
    _cut_merged(arts, groups)
    back += _drop_trailing(groups)
    _lines_back_to_text(back, blocks, arts, groups)
    for a, gs in zip(arts, groups):
        lines = sorted((h for g in gs for h in g), key=lambda h: (h.kind == "kicker", h.idx))  # kicker after the headline
        a.title = join_title([h.text for h in lines])
        a.headline = bool(a.title)
        a.title = a.title or first_sentence(a)
    return [a for a in arts if a.text_blocks]


def _segment(blocks: list[Block], derived: dict) -> tuple[list[Article], list["_Head"]]:
    """Articles cut by structure (a credit line ends one; a headline after body text starts
    the next), and the headline lines with the article they stand next to."""
    arts: list[Article] = []
    heads: list[_Head] = []
    cur: Article | None = None
    prev_kind = None
    for idx, b in enumerate(blocks):
        if b.kind == "heading":
            if cur is not None and cur.text_blocks:
                cur = None
            heads.append(_Head(len(arts) if cur is None else len(arts) - 1, b.text,
                               prev_kind == "heading", idx, derived.get(idx, "heading")))
            prev_kind = b.kind
            continue
        prev_kind = b.kind
        if cur is None:
            cur = Article("", [])
            arts.append(cur)
        cur.blocks.append(b)
        if b.kind == "credit":
            cur = None
    return arts, heads


def _headline_groups(heads: list["_Head"], owner: list[int | None], n: int) -> tuple[list, list["_Head"]]:
    """Each article's headlines, as runs of adjacent lines that went to it; and the lines taken
    as headline only for standing after an article that no article claimed (back to text)."""
    groups: list[list[list[_Head]]] = [[] for _ in range(n)]
    prev_owner = None
    for h, o in zip(heads, owner):
        if o is not None:
            if h.follows and prev_owner == o and groups[o]:
                groups[o][-1].append(h)
            else:
                groups[o].append([h])
        prev_owner = o
    return groups, [h for h, o in zip(heads, owner) if o is None and h.tail]


def _cut_merged(arts: list[Article], groups: list) -> None:
    """Two articles that ran together (one with two separate headlines) cut apart, in place."""
    i = 0
    while i < len(arts):
        cut = _split(arts[i], groups[i]) if len(groups[i]) >= 2 else None
        if cut is None:
            i += 1
            continue
        k, first, second = cut
        arts[i:i + 1] = [Article("", arts[i].blocks[:k]), Article("", arts[i].blocks[k:])]
        groups[i:i + 1] = [first, second]


def _drop_trailing(groups: list) -> list["_Head"]:
    """An article still with two headlines keeps the real one: a trailing line is no second
    headline.  Returns the lines dropped (back to text)."""
    back: list[_Head] = []
    for a_no, gs in enumerate(groups):
        if len(gs) >= 2:
            keep = [g for g in gs if not all(h.tail for h in g)] or gs[:1]
            back += [h for g in gs if not any(g is x for x in keep) for h in g]
            groups[a_no] = keep
    return back


def _lines_back_to_text(back: list["_Head"], blocks: list[Block], arts: list[Article], groups: list) -> None:
    """Lines that turned out not to be headlines become text of the article before them (a
    new untitled article at the start when none is)."""
    for h in sorted(back, key=lambda h: h.idx):
        j = h.idx - 1
        while j >= 0 and blocks[j].kind == "heading":
            j -= 1
        home = next((a for a in arts for x in a.blocks if j >= 0 and x is blocks[j]), None)
        b = blocks[h.idx]
        text_block = Block("text", b.text, b.lines)
        if home is not None:
            home.blocks.append(text_block)
        else:
            arts.insert(0, Article("", [text_block]))
            groups.insert(0, [])


def _assign(arts: list[Article], heads: list[_Head]) -> list[int | None]:
    """The article each headline line goes to (None: nobody's), by shared distinctive words."""
    words = [_title_words("".join(x.text for x in a.blocks)) for a in arts]
    df: dict[str, int] = {}
    for ws in words:
        for w in ws:
            df[w] = df.get(w, 0) + 1
    n = len(arts)
    owner: list[int | None] = []
    last = None  # article that took the previous headline line
    for h in heads:
        tw = _title_words(h.text)
        names = _names(h.text)
        if h.follows and last is not None and not names:
            owner.append(last)  # a headline's second line names nobody new: same headline
            continue
        last = None
        weight = {w: (math.log(n / df[w]) if n > 1 else 1.0) * (3.0 if w in names else 1.0) for w in tw if w in df}
        scores = [sum(weight.get(w, 0.0) for w in tw if w in ws) for ws in words]
        best = max(scores) if scores else 0.0
        if best > 0:
            near = sorted(range(n), key=lambda i: (-scores[i], abs(i - h.pos) + (0.5 if i < h.pos else 0)))
            last = near[0]
        elif h.tail:
            last = None  # a trailing text line that no article claims stays text
        elif not weight or n == 1 or any(v > 0 for v in weight.values()) or not tw:
            # no shared word: the article it stands before (or, at the end, the one before it)
            last = min(h.pos, n - 1)
        owner.append(last)
    return owner


def _split(art: Article, groups: list[list[_Head]]) -> tuple[int, list, list] | None:
    """Where an article that took two separate headlines is two articles run together:
    (block index of the cut, headlines of the first part, of the second), or None.

    The second part must begin with a paragraph naming a place, person, organisation or
    number of its headline that the first headline does not name (an article names its
    subject at its start), and name it at least as often as the first part does; each
    part must lean to its own headline's words, and the cut is where the text turns most
    clearly from the one headline's distinctive words to the other's."""
    blocks = art.blocks
    m = len(blocks)
    texts = [b.text for b in blocks]
    cuts = [k for k in range(1, m) if blocks[k].kind == "text" and any(b.kind == "text" for b in blocks[:k])]
    if not cuts:
        return None
    gw = [set().union(*(_title_words(h.text) for h in g)) for g in groups]
    gn = [set().union(*(_names(h.text) | {w for w in _title_words(h.text) if any(c.isdigit() for c in w)}
                        for h in g)) for g in groups]
    best = None
    for a in range(len(groups)):
        for b in range(len(groups)):
            if a == b or not gn[b] - gw[a]:
                continue
            da, db = gw[a] - gw[b], gw[b] - gw[a]
            anchors = gn[b] & db
            df = {w: sum(1 for t in texts if w in t) for w in da | db}
            wt = {w: math.log(m / df[w]) * (3.0 if w in gn[a] | gn[b] else 1.0) for w in df if df[w]}
            sa = [sum(wt.get(w, 0.0) for w in da if w in t) for t in texts]
            sb = [sum(wt.get(w, 0.0) for w in db if w in t) for t in texts]
            named = [any(w in t for w in anchors) for t in texts]
            pa, pb, pn = _prefix(sa), _prefix(sb), _prefix(named)
            total = pa[m] - pb[m]
            for k in cuts:
                if not named[k] or pn[m] - pn[k] < pn[k]:
                    continue
                if pa[k] <= pb[k] or pb[m] - pb[k] <= pa[m] - pa[k]:
                    continue
                score = 2 * (pa[k] - pb[k]) - total
                if score > abs(total) and (best is None or score > best[0]):
                    best = (score, k, a, b)
    if best is None:
        return None
    _, k, a, b = best
    first, second = [groups[a]], [groups[b]]
    one, two = "".join(texts[:k]), "".join(texts[k:])
    for i, g in enumerate(groups):
        if i not in (a, b):
            (second if sum(w in two for w in gw[i]) > sum(w in one for w in gw[i]) else first).append(g)
    return k, first, second


def _prefix(xs: list) -> list[float]:
    out = [0.0]
    for x in xs:
        out.append(out[-1] + x)
    return out


def _normalise(blocks: list[Block]) -> tuple[list[Block], dict[int, str]]:
    """The blocks with credits recognised where ingest could not (a credit wrapped over two
    lines, or run on after the article's last sentence) and text lines of headline form
    that stand where headlines stand marked as headings: {index: "kicker" | "sub" | "tail"}."""
    out: list[Block] = []
    for b in blocks:
        if b.kind != "text":
            out.append(b)
        elif _CREDIT.match(b.text):
            out.append(Block("credit", b.text, b.lines))
        else:
            out += _split_credit(b)
    derived: dict[int, str] = {}
    for i, b in enumerate(out):
        if b.kind != "text":
            continue
        prev = out[i - 1] if i else None
        nxt = out[i + 1] if i + 1 < len(out) else None
        if prev is not None and prev.kind == "heading" and i - 1 not in derived and _headline_form(b.text, 1, 40):
            kind = "sub"
        elif (nxt is not None and nxt.kind == "heading" and (prev is None or prev.kind in ("credit", "heading", "byline"))
              and _headline_form(b.text, 1, 40)):
            kind = "kicker"
        elif prev is not None and (prev.kind == "credit" or (nxt is None and prev.kind == "text" and _ends_sentence(prev.text))) \
                and _headline_form(b.text, 0, 48):
            kind = "tail"
        else:
            continue
        derived[i] = kind
        out[i] = Block("heading", b.text, b.lines)
    return out, derived


def _split_credit(b: Block) -> list[Block]:
    """A text block holding a credit after its last sentence, maybe followed by a line of
    headline form (the next headline, run on by the extractor): text, credit, rest."""
    for m in _CREDIT_IN.finditer(b.text):
        before, after = b.text[:m.start()].strip(), b.text[m.end():].strip()
        if before and _ends_sentence(before) and (not after or _headline_form(after, 0, 48)):
            parts = [_piece(b, 0, m.start(), "text"), _piece(b, m.start(), m.end(), "credit"),
                     _piece(b, m.end(), len(b.text), "text")]
            return [p for p in parts if p is not None]
    return [b]


def _piece(b: Block, start: int, end: int, kind: str) -> Block | None:
    while start < end and b.text[start].isspace():
        start += 1
    while end > start and b.text[end - 1].isspace():
        end -= 1
    return Block(kind, b.text[start:end], b.lines[start:end]) if end > start else None


def _headline_form(text: str, commas: int, longest: int) -> bool:
    """Short, without sentence punctuation (at most ``commas`` commas and one 、), not a credit."""
    t = text.strip()
    return (4 <= len(t) <= longest and not _STOP.search(t) and len(_COMMA.findall(t)) <= commas
            and t.count("、") <= 1 and not _ends_sentence(t) and len(_HAN.findall(t)) >= 4
            and not _CREDIT_IN.search(t))


def first_sentence(art: Article, longest: int = 30) -> str:
    """Title of an article without headline: its first sentence, shortened to ``longest`` characters + "…"."""
    text = next((b.text for b in art.blocks if b.kind == "text"), "") or \
        next((b.text for b in art.text_blocks), "")
    spans = sentences(text)
    s = (text[spans[0][0]:spans[0][1]] if spans else text).strip()
    s = s.rstrip("。！？；!?;") or s or text.strip()
    return s if len(s) <= longest else s[:longest].rstrip() + "…"


def _names(text: str) -> set[str]:
    """Place, person and organisation names (jieba POS ns/nr/nt), which identify an article best."""
    jieba_ready()
    import jieba.posseg

    return {w.word.lower() for w in jieba.posseg.cut(text) if w.flag in ("ns", "nr", "nt", "nrt")}


def _title_words(text: str) -> set[str]:
    return {w.lower() for w in jieba_cut(text) if len(w) >= 2 and not w.isspace() and not _PUNCT.match(w)}


def join_title(lines: list[str]) -> str:
    out = ""
    for line in lines:
        out += ("" if not out or out[-1] in "：:—-" else " ") + line
    return out


def make_splitter(chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> "RecursiveCharacterTextSplitter":
    # imported here: langchain costs 0.3 s of every process's start, and only a build splits text
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS, keep_separator="end", chunk_size=chunk_size, chunk_overlap=chunk_overlap,
        add_start_index=True, strip_whitespace=True,
    )


def chunk_document(doc: Document, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> list[Chunk]:
    splitter = make_splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    arts = articles(doc)
    head, metas = describe(doc, arts)
    for a_no, (art, meta) in enumerate(zip(arts, metas)):
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
            ocr, boxes = ocr_region(doc.meta, lines[start], lines[end])
            chunks.append(Chunk(doc.source, art.title, lines[start], lines[end], body, a_no, len(chunks), *pages,
                                doc_title=head.publication, issue=head.issue, issue_date=head.issue_date, region=meta.region, region_codes=list(meta.region_codes),
                                date=meta.date, issuer=meta.issuer, headline=art.headline, ocr=ocr, boxes=boxes))
    return chunks


def chunk_settings(chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> dict:
    """Everything that changes the passages; part of the index manifest."""
    return {"chunk_size": chunk_size, "chunk_overlap": chunk_overlap, "separators": SEPARATORS,
            "embed_text": "headline+text", "code": _code_fingerprint(), "metadata": METADATA_VERSION}


def _code_fingerprint() -> str:
    """Hash of the reading, cleaning and chunking code: a change to it re-chunks every file
    (texts already embedded are still reused from the embedding cache)."""
    from pathlib import Path

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for f in [here / n for n in ("read.py", "formats.py", "chunk.py", "metadata.py", "masthead.py", "ocr.py", "tables.py")] + [here.parent / "text" / "sentences.py"]:
        if f.exists():
            h.update(f.read_bytes())
    return h.hexdigest()[:16]
