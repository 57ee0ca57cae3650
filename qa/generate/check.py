"""The claim check: a sentence of the model's answer passes when it cites a passage and every
figure and place name in it occurs in a passage it cites.  Numbers are compared by value (8万 =
80000, 七章 = 7章); places are China's divisions (qa/text/lexicon.py), in Chinese or romanised."""

from __future__ import annotations

import re
import unicodedata

from qa.retrieve.results import Passage

# a marker: [1], [1, 2], [1][2], 【1】, ［1］ (the check reads them; the answer shows [n])
MARKER = re.compile(r"[\[【［]\s*([0-9０-９]{1,3}(?:\s*[,，、;；]\s*[0-9０-９]{1,3})*)\s*[\]】］]")


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10 ** 4, "亿": 10 ** 8}
_CN = "零〇一二两三四五六七八九十百千万亿"
_MAGNITUDE = {"万": 1e4, "亿": 1e8, "千": 1e3, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_ARABIC = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d])"
                     r"(\s*(?:万|亿|千(?![米克瓦])|thousand\b|million\b|billion\b))?(\s*(?:%|‰|percent\b|per cent\b))?", re.I)
_PERCENT_CN = re.compile(r"百分之([" + _CN + r"点]+)")
# a Chinese numeral the sentence states as a figure: followed by a unit or classifier (三百名,
# 两万人, 七章, 二〇二五年), not an ordinal (第三章) and not a lone 一 (一个社区: "a")
_CN_FIGURE = re.compile(r"(?<![第\d.," + _CN + r"])([" + _CN + r"]+)(?=[余多]?(?:个|名|人|家|所|项|次|条|章|节|支|户|张|处"
                        r"|场|期|批|位|座|间|台|件|类|种|级|套|部|本|篇|份|床|村|镇|站|队|元|年|月|日|天|周|岁|倍|成|%))")
_NOT_A_FIGURE = {"一", "百", "千", "万", "亿"}  # 一个 ("a"), 千家万户, 百姓: words, not figures
_CN_RUN = re.compile(r"[" + _CN + r"]+")


def cn_value(s: str) -> float | None:
    """The value of a Chinese numeral (三百二十, 两万, 二〇二五, 三点五), or None when it is
    not one (十四五)."""
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


def _arabic(m: re.Match) -> tuple[float, bool]:
    value = float(m.group(1).replace(",", "") + (m.group(2) or ""))
    mag = (m.group(3) or "").strip().lower()
    return value * _MAGNITUDE.get(mag, 1), bool(m.group(4))


def figures_in(text: str) -> list[tuple[str, float, bool]]:
    """The numbers a sentence states: (as written, value, is a percentage).  Digits (1,200 /
    82.9 / 8万 / 2.5 million / 50%), 百分之 and Chinese numerals with a unit (三百名, 二〇二五年)."""
    text = unicodedata.normalize("NFKC", text.replace("，", "、"))  # 300，800 is two numbers, not 300,800
    out = [(m.group(0).strip(), *_arabic(m)) for m in _ARABIC.finditer(text)]
    for m in _PERCENT_CN.finditer(text):
        v = cn_value(m.group(1))
        if v is not None:
            out.append((m.group(0), v, True))
    for m in _CN_FIGURE.finditer(_PERCENT_CN.sub(" ", text)):
        v = cn_value(m.group(1))
        if v is not None and m.group(1) not in _NOT_A_FIGURE:
            out.append((m.group(1), v, False))
    return out


def _passage_values(text: str) -> set[tuple[float, bool]]:
    """Every value a passage states, generously: digits, 百分之 and any Chinese numeral."""
    values = {(round(v, 6), pct) for _s, v, pct in figures_in(text)}
    text = unicodedata.normalize("NFKC", text)
    for m in _CN_RUN.finditer(text):
        v = cn_value(m.group(0))
        if v is not None:
            values.add((round(v, 6), False))
    return values


def places_named(text: str) -> list[tuple[str, list]]:
    """The places a sentence names: (as written, candidate qa.text.lexicon.Place list).  Chinese names
    by the division list; a capitalised romanised name (Jiuquan, Gansu) by its pinyin."""
    from qa.text.lexicon import places
    from qa.retrieve.query import is_english_word

    table = places()
    text = unicodedata.normalize("NFKC", text)
    flat = re.sub(r"\s+", "", text)
    out = [(flat[a:b], list(hit)) for a, b, hit in table.find(flat)]
    words = list(re.finditer(r"\b[A-Z][a-z]+(?:['’][a-z]+)?\b", text))
    skip = False
    for m, nxt in zip(words, words[1:] + [None]):
        if skip:
            skip = False
            continue
        key = re.sub(r"['’]", "", m.group(0)).lower()
        if nxt is not None and re.fullmatch(r"[ -]", text[m.end():nxt.start()]):  # Gan Su, Xi-an
            pair = key + re.sub(r"['’]", "", nxt.group(0)).lower()
            if pair in table.pinyin:
                out.append((text[m.start():nxt.end()], list(table.pinyin[pair])))
                skip = True
                continue
        if key in table.pinyin and not is_english_word(key):
            out.append((m.group(0), list(table.pinyin[key])))
    return out


def check_sentence(sentence: str, markers: list[int], passages: list[Passage]) -> tuple[bool, str]:
    """(passed, why not): the sentence cites a passage, every marker names a retrieved passage,
    and every number, percentage, year and place name in it occurs (after NFKC) in a passage
    it cites (its title included)."""
    if not markers:
        return False, "cites no passage"
    beyond = [n for n in markers if not 1 <= n <= len(passages)]
    if beyond:
        return False, (f"cites [{beyond[0]}], but only {len(passages)} passage"
                       f"{'s were' if len(passages) != 1 else ' was'} retrieved")
    cited = "\n".join(f"{passages[n - 1].title}\n{passages[n - 1].text}" for n in markers)
    values = _passage_values(cited)
    flat = re.sub(r"\s+", "", unicodedata.normalize("NFKC", cited))
    body = MARKER.sub(" ", sentence)
    missing = []
    for shown, value, pct in figures_in(body):
        v = round(value, 6)
        if (v, True) in values or (not pct and (v, False) in values):
            continue
        missing.append(shown)
    for shown, candidates in places_named(body):
        if not any(name in flat for p in candidates for name in p.names) and shown not in flat:
            missing.append(shown)
    if missing:
        which = "".join(f"[{n}]" for n in markers)
        return False, f"not in the cited passage{'s' if len(markers) > 1 else ''} {which}: {', '.join(dict.fromkeys(missing))}"
    return True, ""
