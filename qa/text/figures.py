"""Figures in text, parsed one way for every stage: the numbers a text states, with their value
and kind, and the text as a reader sees it (no invisible characters).

    >>> [(f.text, f.value, f.kind) for f in figures_in("新增300名，8万人，50%，每千名老人，九成")]
    [('300', 300.0, ''), ('8万', 80000.0, ''), ('50%', 50.0, '%'), ('九成', 90.0, '%'), ('每千', 1000.0, 'per')]

What is a figure:

* digits (1,200 / 82.9 / 8万 / 2.5 million / 50% / 5‰), any of them;
* Chinese numerals, in the everyday (三百二十, 两万, 二〇二五) or the formal script (叁仟,
  玖仟玖佰玖拾玖, 萬): with a unit or classifier after them (三百名, 七章, 二〇二五年), or bare
  when they can only be a number (九千九百九十九: two characters or more, one of them 十 百 千
  万 亿, or four digits with a 〇).  Not an ordinal (第三章), not a lone 一 (一个社区: "a"),
  not a word (千家万户, 百姓, 千万, 十四五);
* 百分之五十 and 九成 (a tenth: 九成 = 90 %) are percentages;
* English number words ("nine thousand nine hundred", "twenty-five percent"), not a lone "one";
* a rate is not a count: 每千名 / 每1000名 / per 1,000 is the figure 1000 of kind ``per``, which a
  plain 1000 does not match.

The kinds: ``""`` (a count, an amount, a year), ``"%"`` (a percentage or a tenth), ``"per"``.
Values are floats; compare them rounded (:func:`values_in`).

:func:`visible` is the text as a reader sees it: NFKC, without format characters (zero-width
spaces and joiners, the byte-order mark, soft hyphens) and combining marks that NFKC could not
fold, so that 苏\\u200b州 is 苏州.

The numeral character classes of the highlight (``DIGITS``, ``CN_NUMERAL``) and the year and
date patterns of the query and metadata readers live here too, so that every stage reads a
number the same way.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# --------------------------------------------------------------------------- the text a reader sees


def visible(text: str) -> str:
    """NFKC without the characters nobody sees: format characters (Cf: zero-width space, joiners,
    BOM, soft hyphen, bidi controls) and the combining marks left after NFKC."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    return "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Mn", "Me"))


# --------------------------------------------------------------------------- shared patterns

# digits, 1,200 / 82.9, not an ordinal (第4章): the highlight's count and money patterns
DIGITS = r"(?<!第)\d+(?:[.,]\d+)*"
# Chinese numerals, not an ordinal (第四章) nor a lone 一, which is mostly an article (一章中, 一批)
CN_NUMERAL = (r"(?<![第零〇一二两三四五六七八九十百千])(?:[二两三四五六七八九十百千]|一[零〇一二两三四五六七八九十百千])"
              r"[零〇一二两三四五六七八九十百千]*")
# a year of the bulletins' era, alone (not part of a longer number)
YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-9]\d)(?!\d)")
# a date: 2025年3月(5日), 2025-03-05, 2025.3.5, 2025/3/5
DATE = re.compile(r"(\d{4})\s*(?:年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?|[-./](\d{1,2})[-./](\d{1,2})(?!\d))")

# --------------------------------------------------------------------------- Chinese numerals

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10 ** 4, "亿": 10 ** 8}
# the formal (financial) numerals and the traditional forms, read as the everyday ones
_FORMAL = str.maketrans("壹贰貳弐叁參参肆伍陆陸柒捌玖拾佰仟萬億兩", "一二二二三三三四五六六七八九十百千万亿两")
_CN = "零〇一二两三四五六七八九十百千万亿"
_CN_RUN = re.compile(r"[" + _CN + r"]+")
# what may follow a Chinese numeral stated as a figure: a unit or a classifier
_CLASSIFIER = (r"[余多]?(?:个|名|人|家|所|项|次|条|章|节|支|户|张|处|场|期|批|位|座|间|台|件|类|种|级|套|部|本|篇|份|床"
               r"|村|镇|站|队|元|年|月|日|天|周|岁|倍|%)")
_CN_FIGURE = re.compile(r"(?<![第\d.," + _CN + r"])([" + _CN + r"]+)(?=" + _CLASSIFIER + ")")
_NOT_A_FIGURE = {"一", "百", "千", "万", "亿"}  # 一个 ("a"), 千家万户, 百姓: words, not figures
_NOT_A_NUMBER = {"千万", "万万", "万一", "一一", "千千万万", "万千", "百万千万"}  # adverbs and idioms
# 九成 = 90 %: a digit or 十 before 成, not 成立 / 成为 / 成果 ... (a verb or a noun)
_TENTHS = re.compile(r"(?<![第\d" + _CN + r"])([一二两三四五六七八九十]|\d(?:\.\d)?)成(?![员立为果效本功就熟长交绩品])")
_PERCENT_CN = re.compile(r"百分之([" + _CN + r"点]+)")
_PER = re.compile(r"(?:每|\bper\s+)$", re.I)  # 每千名, 每1000名, per 1,000


def cn_value(s: str) -> float | None:
    """The value of a Chinese numeral (三百二十, 两万, 二〇二五, 三点五, 叁仟), or None when it is
    not one (十四五)."""
    s = s.translate(_FORMAL)
    if "点" in s:
        whole, _, frac = s.partition("点")
        w = cn_value(whole) if whole else 0
        if w is None or not frac or any(c not in _CN_DIGITS for c in frac):
            return None
        return w + float("0." + "".join(str(_CN_DIGITS[c]) for c in frac))
    if len(s) >= 2 and all(c in _CN_DIGITS for c in s):  # 二〇二五: digit by digit
        return float("".join(str(_CN_DIGITS[c]) for c in s))
    total, section, num, have_num = 0.0, 0.0, 0, False
    for c in s:
        if c in _CN_DIGITS:
            if have_num and num != 0:  # 四五: two digits in a row is not a numeral
                return None
            num, have_num = _CN_DIGITS[c], True
        elif c in _CN_UNITS:
            section += (num if have_num else 1) * _CN_UNITS[c]
            num, have_num = 0, False
        elif c in _CN_BIG:
            section += num
            if c == "亿":
                total = (total + (section or 1)) * _CN_BIG[c]
            else:
                total += (section or 1) * _CN_BIG[c]
            section, num, have_num = 0.0, 0, False
        else:
            return None
    return float(total + section + num)


def _bare_number(run: str) -> bool:
    """A run of Chinese numerals with nothing after it that can only be a number."""
    if len(run) < 2 or run in _NOT_A_NUMBER:
        return False
    if any(c in "十百千万亿" for c in run):
        return True
    return len(run) == 4 and any(c in "〇零" for c in run)  # 二〇二五


# --------------------------------------------------------------------------- digits and English words

_MAGNITUDE = {"万": 1e4, "亿": 1e8, "千": 1e3, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_ARABIC = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d])"
                     r"(\s*(?:万|亿|千(?![米克瓦])|thousand\b|million\b|billion\b))?(\s*(?:%|‰|percent\b|per cent\b))?", re.I)
_SMALL = {**{w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())},
    **{w: 10 * n for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}}
_SCALE = {"hundred": 100, "thousand": 1000, "million": 10 ** 6, "billion": 10 ** 9}
_WORD = r"(?:" + "|".join(sorted(list(_SMALL) + list(_SCALE) + ["a"], key=len, reverse=True)) + r")"
_EN_RUN = re.compile(r"(?<![\w.])" + _WORD + r"(?:(?:[\s-]+(?:and[\s-]+)?)" + _WORD + r")*\b"
                     r"(\s*(?:%|percent\b|per cent\b))?", re.I)


def en_value(words: str) -> float | None:
    """The value of English number words ("nine thousand nine hundred and ninety-nine",
    "a hundred"), or None when they are not a number of more than one ("one", "a")."""
    tokens = [t for t in re.split(r"[\s-]+", words.lower()) if t and t != "and"]
    if not any(t in _SMALL or t in _SCALE for t in tokens) or tokens in (["one"], ["zero"]):
        return None
    total, current, seen = 0, 0, False
    for i, t in enumerate(tokens):
        if t == "a":  # "a hundred", "a thousand": one of them; a lone "a" is an article
            if i + 1 >= len(tokens) or tokens[i + 1] not in _SCALE:
                return None
            current += 1
        elif t in _SMALL:
            current += _SMALL[t]
            seen = True
        elif t == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * _SCALE[t]
            current = 0
        seen = seen or t in _SCALE
    return float(total + current) if seen else None


# --------------------------------------------------------------------------- figures


class Figure(NamedTuple):
    """A number a text states: as written, its value, its kind ("" a count, "%", "per" a rate)."""

    text: str
    value: float
    kind: str = ""


def figures_in(text: str, *, lenient: bool = False) -> list[Figure]:
    """The numbers ``text`` states (see the module docstring), in the order of the patterns.
    ``lenient``: also a lone 一 before a classifier (一个 = 1), for the passages a sentence is
    checked against (a sentence writing 1个 is read from 一个)."""
    src = visible(text.replace("，", "、"))  # 300，800 is two numbers, not 300,800
    text = src.translate(_FORMAL)  # one character for one: positions are those of ``src``
    out: list[Figure] = []
    taken = bytearray(len(text) + 1)

    def add(a: int, b: int, value: float | None, kind: str) -> None:
        if value is None or any(taken[a:b]):
            return
        if kind != "%" and _PER.search(text[max(0, a - 4):a]):
            a, kind = a - (1 if text[a - 1] == "每" else 0), "per"
        taken[a:b] = b"\1" * (b - a)
        out.append(Figure(src[a:b].strip(), value, kind))

    for m in _ARABIC.finditer(text):
        value = float(m.group(1).replace(",", "") + (m.group(2) or ""))
        value *= _MAGNITUDE.get((m.group(3) or "").strip().lower(), 1)
        add(m.start(), m.end(), value, "%" if m.group(4) else "")
    for m in _PERCENT_CN.finditer(text):
        add(m.start(), m.end(), cn_value(m.group(1)), "%")
    for m in _TENTHS.finditer(text):
        v = cn_value(m.group(1)) if not m.group(1)[0].isdigit() else float(m.group(1))
        add(m.start(), m.end(), None if v is None else v * 10, "%")
    for m in _CN_FIGURE.finditer(text):
        run = m.group(1)
        rate = text[max(0, m.start() - 1):m.start()] == "每"
        if run not in _NOT_A_FIGURE or rate or (lenient and run == "一"):
            add(m.start(1), m.end(1), cn_value(run), "")
    for m in _CN_RUN.finditer(text):
        if _bare_number(m.group(0)) and text[max(0, m.start() - 1):m.start()] != "第":
            add(m.start(), m.end(), cn_value(m.group(0)), "")
    for m in _EN_RUN.finditer(text):
        words = m.group(0)[: m.start(1) - m.start()] if m.group(1) else m.group(0)
        if re.search(r"\d\s*$", text[max(0, m.start() - 3):m.start()]):
            continue  # "2.5 million": read with the digits
        add(m.start(), m.end(), en_value(words), "%" if m.group(1) else "")
    return out


def values_in(text: str, *, lenient: bool = True) -> set[tuple[float, str]]:
    """Every (value, kind) ``text`` states, rounded for comparison: what a passage vouches for."""
    return {(round(f.value, 6), f.kind) for f in figures_in(text, lenient=lenient)}


def vouched(figure: Figure, values: set[tuple[float, str]]) -> bool:
    """Whether a figure is among ``values`` (:func:`values_in` of a passage): the same value of the
    same kind; a plain number is also vouched for by the same percentage (50 for 50%)."""
    v = round(figure.value, 6)
    return (v, figure.kind) in values or (figure.kind == "" and (v, "%") in values)
