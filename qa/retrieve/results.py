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
    doc_title: str = ""  # the bulletin's name (masthead or lead headline; the file name at worst)
    region: str = ""  # the article's places, full names: 甘肃省酒泉市 ("" = about no region)
    date: str = ""  # YYYY-MM-DD or YYYY-MM, when the article states one
    issuer: str = ""  # the issuing body, when the text states it
    region_codes: list = field(default_factory=list)  # their adcodes
    # every marked span, the answering sentence (``highlight``) first; a second when it scored
    # close to the first (qa/retrieve/highlight.py); empty when nothing is marked
    marks: list = field(default_factory=list)

    @property
    def citation(self) -> str:
        where = f"{self.source}, lines {self.start_line}-{self.end_line}"
        if self.page_start is not None:
            pages = self.page_start if self.page_start == self.page_end else f"{self.page_start}-{self.page_end}"
            where = f"{self.source}, p. {pages}, lines {self.start_line}-{self.end_line}"
        return f"{self.title} ({where})" if self.title else where

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


class Results(list):
    """Passages, best first, with the verdict: ``answered`` (do they answer the question?) and
    ``reason`` (why not, in a sentence; empty when answered), and ``best_similarity``."""

    best_similarity: float | None = None
    answered: bool = False
    reason: str = ""
