"""Chunk stage, a bulletin's masthead: the publication a file is (or is a page of), its issue and
the issue's date, as the file prints them at its top or as its file name gives them.

A file that holds several articles (a newspaper page, an issue of a bulletin) is cited by its
publication and issue, never by one of its articles.  The masthead is the run of short lines at
the very top of the file that are no article's: lines made of issue facts (第32期, 2024年第3期,
总第125期, a date, 星期一, 第5版, "…编 / 主办", 责任编辑：…, CN11-0045), a name in 《》, a running head (a name between
Latin letters or a page number: "Social Work 05社会工作"), and a name standing next to an issue
line.  A bare name beside a bare date names the publication only when it reads as one (in 《》,
or ending 报 / 简报 / 周刊 / 杂志 / 通讯 / 动态 …): a headline over its dateline does not.  The
file name is read the same way (中国社会工作2021年第32期.pdf, 民政简报_2024-03-05.docx), after the
text.  Whatever neither gives stays empty: nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as _date

from qa.text.chars import HAN

MAX_HEAD_BLOCKS = 6  # a masthead is in the first blocks of a file
MAX_LINE = 48  # masthead lines are short

_NUM = "0-9０-９一二三四五六七八九十百零〇两"
_ISSUE = re.compile(rf"(?:(\d{{4}})\s*年\s*)?(?:第\s*([{_NUM}]+)\s*期)(?:\s*[（(]?\s*总第\s*([{_NUM}]+)\s*期\s*[）)]?)?"
                    rf"|[（(]?\s*总第\s*([{_NUM}]+)\s*期\s*[）)]?")
_FULL_DATE = re.compile(r"(?<!\d)(\d{4})\s*(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|[-./_](\d{1,2})[-./_](\d{1,2})(?!\d))"
                        r"|(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_WEEKDAY = re.compile(r"(?:星期|礼拜|周)[一二三四五六日天]")
_PAGE = re.compile(rf"第?\s*[{_NUM}]+\s*版|[A-Z]?\d{{1,2}}\s*版")
# the imprint a masthead or a page header prints: who runs, edits or lays out the page, its serial numbers
_IMPRINT_KEY = "(?:主管|主办|承办|出版|编印|责任编辑|责编|编辑|美编|校对|版式|组版|值班主任|总编辑|社长)"
_IMPRINT = re.compile(rf"{_IMPRINT_KEY}\s*[:：]\s*[{HAN}A-Za-z·]{{2,30}}?(?=\s|$|{_IMPRINT_KEY}\s*[:：])"
                      rf"|(?:国内统一连续出版物号|连续出版物号|邮发代号|刊号)\s*[:：]?\s*[A-Z]{{0,2}}\s*[\d\-－/]+"
                      rf"|\bCN\s*\d{{2}}\s*[-－]\s*\d{{4}}(?:\s*/\s*[A-Z])?")
_PUBLISHER = re.compile(rf"[{HAN}（）()]{{2,30}}(?:编印|编发|主办|主编|编)$")
_RUNNING = re.compile(rf"([A-Za-z0-9\s·•|｜_\-—.:：/]*?)\s*([{HAN}]{{2,20}})\s*([A-Za-z0-9\s·•|｜_\-—.:：/]*)")
_BOOK = re.compile(r"^《([^《》]{2,24})》$")
_PUB_SUFFIX = ("简报", "快报", "周报", "日报", "晚报", "时报", "报", "周刊", "月刊", "旬刊", "季刊", "半月刊", "双月刊",
               "杂志", "通讯", "动态", "专刊", "快讯", "资讯", "参考", "年鉴", "公报")
_SENTENCE = re.compile(r"[。！？；，,;!?]")
_SEP = re.compile(r"[\s_\-—–.·•|｜()（）\[\]【】]+")


@dataclass
class Masthead:
    publication: str = ""  # 中国社会工作 (no 《》)
    issue: str = ""  # 2024年第3期（总第125期）, 第32期
    issue_date: str = ""  # YYYY-MM-DD
    blocks: int = 0  # how many of the file's first blocks are masthead lines (no article's)

    @property
    def year(self) -> int | None:
        return int(self.issue_date[:4]) if self.issue_date else None


def _iso(y: int, m: int, d: int) -> str:
    try:
        return _date(y, m, d).isoformat() if 1949 <= y <= 2100 else ""
    except ValueError:
        return ""


def _date_in(text: str) -> tuple[str, str]:
    """(the first full date of ``text`` as YYYY-MM-DD, the text without it)."""
    for m in _FULL_DATE.finditer(text):
        g = m.groups()
        if g[0]:
            iso = _iso(int(g[0]), int(g[1] or g[3]), int(g[2] or g[4]))
        else:
            iso = _iso(int(g[5]), int(g[6]), int(g[7]))
        if iso:
            return iso, text[:m.start()] + " " + text[m.end():]
    return "", text


def _issue_in(text: str) -> tuple[str, str]:
    """(the issue a text states: 2024年第3期（总第125期）, its text without it)."""
    m = _ISSUE.search(text)
    if not m:
        return "", text
    year, no, total, total_only = m.groups()
    parts = ([f"{year}年" if year else ""] + [f"第{no}期"] if no else [])
    issue = "".join(parts)
    total = total or total_only
    if total:
        issue = f"{issue}（总第{total}期）" if issue else f"总第{total}期"
    return issue, text[:m.start()] + " " + text[m.end():]


@dataclass
class _Line:
    name: str = ""  # the name left once the issue facts are taken out ("" : none)
    issue: str = ""
    date: str = ""
    facts: bool = False  # it states an issue, a date, a weekday, a page or a publisher
    strong: bool = False  # an issue, weekday, page or publisher: only a masthead says those
    running: bool = False  # a name among Latin letters or digits (a running head)
    book: bool = False  # the name in 《》


def _read_line(text: str) -> _Line | None:
    """What a short line says as a masthead line, or None when it is no masthead line (a
    sentence, a long line)."""
    t = text.strip()
    if not t or len(t) > MAX_LINE or _SENTENCE.search(t):
        return None
    out = _Line()
    out.issue, rest = _issue_in(t)
    out.date, rest = _date_in(rest)
    rest, n_week = _WEEKDAY.subn(" ", rest)
    rest, n_page = _PAGE.subn(" ", rest)
    rest, n_imprint = _IMPRINT.subn(" ", rest)
    rest = rest.strip()
    pub = _PUBLISHER.search(rest.replace(" ", ""))
    if pub:
        rest = ""
    out.strong = bool(out.issue or n_week or n_page or n_imprint or pub)
    out.facts = bool(out.strong or out.date)
    name = rest.replace(" ", "")
    if name and name not in re.sub(r"\s+", "", t):
        return None  # the facts stood inside the words (全市第5期社工培训班开班): a headline, no masthead
    book = _BOOK.match(name)
    if book:
        out.name, out.book = book.group(1), True
    elif re.fullmatch(f"[{HAN}]{{2,20}}", name):
        out.name = name
    else:
        run = _RUNNING.fullmatch(rest)
        if run and (re.search("[A-Za-z]", run.group(1) + run.group(3))
                    or re.fullmatch(r"\s*\d{1,3}\s*", run.group(1) + run.group(3))):
            out.name, out.running = run.group(2), True
        elif re.search(f"[{HAN}]", name):
            return None  # words that are no name: a headline with a figure, a sentence
    return out if (out.facts or out.name) else None


def _reads_as_publication(name: str) -> bool:
    return name.endswith(_PUB_SUFFIX)


def read_masthead(blocks, source: str = "") -> Masthead:
    """The masthead of a file from its first blocks (``blocks``: qa.ingest.read.Block) and its
    file name (``source``).  ``Masthead.blocks``: how many leading blocks it took (no article's)."""
    lines: list[_Line] = []
    for b in list(blocks)[:MAX_HEAD_BLOCKS]:
        if b.kind not in ("heading", "text"):
            break
        line = _read_line(b.text)
        if line is None:
            break
        lines.append(line)
    head = _settle(lines)
    if not head.publication or not head.issue_date or not head.issue:
        from_name = _from_file_name(source)
        head.publication = head.publication or from_name.publication
        head.issue = head.issue or from_name.issue
        head.issue_date = head.issue_date or from_name.issue_date
    return head


def _settle(lines: list[_Line]) -> Masthead:
    """The leading lines that are masthead lines, and what they say together: a line counts when
    it states issue facts, is a running head or a name in 《》, or is a name beside an issue line
    (beside a bare date: only a name that reads as a publication's)."""
    head = Masthead()
    for i, ln in enumerate(lines):
        near = [x for x in (lines[i - 1] if i else None, lines[i + 1] if i + 1 < len(lines) else None) if x]
        named = ln.book or ln.running or (ln.name and (ln.strong or any(x.strong and not x.name for x in near)
                                                       or ((ln.date or any(x.facts and not x.name for x in near))
                                                           and _reads_as_publication(ln.name))))
        if not (named or (ln.facts and not ln.name)) or (named and head.publication):
            break  # a line that is no masthead's, or a second name (the first headline)
        head.blocks = i + 1
        if named and not head.publication:
            head.publication = ln.name
        head.issue = head.issue or ln.issue
        head.issue_date = head.issue_date or ln.date
    return head


def _from_file_name(source: str) -> Masthead:
    """What a file name says: 中国社会工作2021年第32期.pdf, 《民政简报》2024-03-05.docx."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", (source or "").rsplit("/", 1)[-1])
    out = Masthead()
    out.issue, rest = _issue_in(stem)
    out.issue_date, rest = _date_in(rest)
    rest = _PAGE.sub(" ", rest)
    book = re.search(r"《([^《》]{2,24})》", rest)
    if book:
        out.publication = book.group(1)
    else:
        names = [p for p in _SEP.split(rest) if re.fullmatch(f"[{HAN}]{{2,20}}", p)]
        if len(names) == 1 and (out.issue or out.issue_date) and (out.issue or _reads_as_publication(names[0])):
            out.publication = names[0]
    return out
