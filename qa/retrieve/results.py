"""What a search returns: :class:`Passage` (one cited passage, its answering sentence and its
article's metadata) and :class:`Results` (the passages, best first, with the verdict)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Passage:
    text: str
    source: str
    title: str
    start_line: int
    end_line: int
    score: float
    rank: int = 0
    highlight: tuple[int, int] | None = None  # character span of the answering sentence in text
    ranks: dict = field(default_factory=dict)  # rank of this passage in each retrieval mode
    article: int = 0
    similarity: float | None = None  # dense cosine of query and passage (None in lexical mode)
    page_start: int | None = None  # PDF pages of the passage
    page_end: int | None = None
    doc_title: str = ""  # the publication the file is (or is a page of), from its masthead; "" when unknown
    region: str = ""  # the article's places, full names: 甘肃省酒泉市 ("" = about no region)
    date: str = ""  # the article's date, YYYY-MM-DD or YYYY-MM, when the text gives it
    issuer: str = ""  # the body the article credits (or says issued what it reports)
    region_codes: list = field(default_factory=list)  # their adcodes
    # every marked span, the answering sentence (``highlight``) first; a second when it scored
    # close to the first (qa/retrieve/highlight.py); empty when nothing is marked
    marks: list = field(default_factory=list)
    issue: str = ""  # the publication's issue (2024年第3期), when the file gives it
    issue_date: str = ""  # the issue's date, YYYY-MM-DD
    ocr: bool = False  # the text was read by OCR from a scan or a photo (it may hold misread characters)
    boxes: list = field(default_factory=list)  # OCR: the passage's outline on each page, [[page, x0, y0, x1, y1]]

    @property
    def citation(self) -> str:
        """The reference in English: :func:`reference`."""
        return reference(self, "en")

    def reference(self, lang: str = "en") -> str:
        return reference(self, lang)

    @property
    def answer(self) -> str:
        return self.text[self.highlight[0]: self.highlight[1]] if self.highlight else ""

    @property
    def answers(self) -> list[str]:
        """The text of every marked span, the answering sentence first."""
        marks = self.marks or ([self.highlight] if self.highlight else [])
        return [self.text[a:b] for a, b in marks]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["highlight"] = list(self.highlight) if self.highlight else None
        d["marks"] = [list(m) for m in self.marks]
        d["answer"] = self.answer
        d["answers"] = self.answers
        d["citation"] = self.citation
        return d


def reference(p, lang: str = "en") -> str:
    """A passage's citation for a report, in ``lang`` ("zh", else English): the article's title,
    its issuer and date, the publication with its issue and the issue's date, then the file, PDF
    pages and lines.  What is unknown is left out, never filled in::

        甘肃酒泉：多措并举…，酒泉市委社会工作部，2025-03-05，载《社会工作》2025年第3期（2025-03-10）（003.txt，第121–136行）
        甘肃酒泉：多措并举…, 酒泉市委社会工作部, 2025-03-05, in 《社会工作》 2025年第3期 (2025-03-10) (003.txt, lines 121-136)

    The one formatter of the page's cards and copy button, the exports, the command line and
    ``Passage.citation``."""
    pages = ""
    if getattr(p, "page_start", None) is not None:
        pages = str(p.page_start) if p.page_start == p.page_end else f"{p.page_start}-{p.page_end}"
        pages += (" (OCR)" if lang != "zh" else "（OCR识别）") if getattr(p, "ocr", False) else ""
    pub, issue, issue_date = (getattr(p, k, "") or "" for k in ("doc_title", "issue", "issue_date"))
    date = p.date if p.date and p.date != issue_date else ""
    zh = lang == "zh"
    when = (f"（{issue_date}）" if zh else f" ({issue_date})") if issue_date and (pub or issue) else issue_date
    where = (("载" if zh else "in ") + f"《{pub}》" + ("" if zh or not issue else " ") if pub else "") + issue + when
    parts = [x for x in (p.title, p.issuer, date, where) if x]
    if zh:
        loc = f"{p.source}，" + (f"第{pages}页，" if pages else "") + f"第{p.start_line}–{p.end_line}行"
        return "，".join(parts) + f"（{loc}）"
    loc = f"{p.source}, " + (f"p. {pages}, " if pages else "") + f"lines {p.start_line}-{p.end_line}"
    return ", ".join(parts) + f" ({loc})" if parts else loc


class Results(list):
    """Passages, best first, with the verdict: ``answered`` (do they answer the question?) and
    ``reason`` (why not, in a sentence; empty when answered), and ``best_similarity``."""

    best_similarity: float | None = None
    answered: bool = False
    reason: str = ""
    listing: bool = False  # a list question ("哪些省份…", "which provinces…": qa/retrieve/listing.py)
    items: tuple = ()  # a list question's items: the ranks of the passages the answer lists

    def verdict(self, lang: str = "en", say=None) -> str:
        """The verdict in a word or a sentence, for an export's column: "answered", or "not
        answered: <reason>" (in ``lang``: "zh" gives 已回答 / 未回答：<原因>; ``say(reason, lang)``
        puts a reason that is no qa.messages.Msg into ``lang``, e.g. the page's say)."""
        reason = self.reason.in_lang(lang) if hasattr(self.reason, "in_lang") else str(self.reason or "")
        if say is not None and not hasattr(self.reason, "in_lang"):
            reason = say(reason, lang)
        if lang == "zh":
            return "已回答" if self.answered else "未回答" + (f"：{reason}" if reason else "")
        return "answered" if self.answered else "not answered" + (f": {reason}" if reason else "")

    def to_dict(self) -> dict:
        """The verdict and the passages, as the command line's --json and the /search endpoint give
        them: {"answered", "reason", "reason_code", "passages": [Passage.to_dict(), ...]}."""
        return {"answered": bool(self.answered), "reason": str(self.reason or ""),
                "reason_code": getattr(self.reason, "code", ""), "listing": bool(self.listing),
                "items": list(self.items), "passages": [p.to_dict() for p in self]}
