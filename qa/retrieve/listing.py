"""List questions: "哪些省份提出了…", "which provinces…", "what measures…" ask for every article
that answers, not the one best passage.  Part of the retrieve stage.

* The intent is read from closed classes of the two languages (``list_intent``): 哪些 / 哪几 /
  列举 / 分别 / 什么 + a collective noun of measures (措施, 举措, 做法, 要求 …); "which" followed at
  once by a plural noun ("which provinces"; not "which community hosts"), "what" + such a noun, "list", "name the".  A division noun in the question (省份 /
  provinces, 城市 / cities, 县 / counties) says the level of place each item is.
* The search then keeps one passage per article (per place at the asked level, when one is
  asked: one per province for "哪些省份"), in the fused order, articles at the asked level first
  (``diversify``): the top k gather the articles that answer instead of one article's passages.
* The items (``list_items``): the passages whose marked sentence holds a figure of the kind asked
  (when one is) and at least ``ITEM_SHARE`` of the best one's share of the question's terms, each
  of its own place; the extractive answer lists them, each cited (qa/generate/llm.py).

No word of any question or bulletin is named here: the interrogatives, collective nouns and
division nouns are closed classes; the places come from each article's region (adcodes).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PROVINCE, PREFECTURE, COUNTY = 0, 1, 2  # qa.text.lexicon.Place.level
# an item's marked sentence holds at least this share of the best item's terms: on
# benchmarks/list_questions.jsonl (8 questions, 22 keys) 0.0 / 0.2 / 0.3 / 0.4 / 0.5 list 13 / 13 /
# 13 / 11 / 11 keys in 30 / 25 / 22 / 18 / 17 items: 0.3 keeps every key listed with the fewest items
ITEM_SHARE = 0.3

# collective nouns a list question asks for with 什么 / what ("采取了什么措施": several measures)
_COLLECTIVE_ZH = "措施|举措|做法|经验|要求|任务|政策|办法|项目|内容|方面|领域|指标|目标"
_COLLECTIVE_EN = (r"measures|steps|actions|policies|requirements|tasks|projects|areas|fields|targets|goals"
                  r"|indicators|initiatives|programmes|programs|ways|methods")
_LIST_ZH = re.compile(rf"哪些|哪几|列举|列出|分别|什么(?:样的)?(?:{_COLLECTIVE_ZH})")
_LIST_EN = re.compile(rf"\bwhich\s+(?!is\b|was\b|has\b|does\b|this\b|its\b|was\b)[a-z]+(?<!s)s\b"
                      rf"|\bwhat\s+(?:\w+\s+)?(?:{_COLLECTIVE_EN})\b|\blist\b|\bname\s+the\b|\benumerate\b", re.I)
# division nouns -> the level each item is at (地区 / region names no level)
_LEVELS = [(re.compile(p, re.I), level) for p, level in [
    (r"省份|省区|省市|哪些省|哪几个省|自治区|\bprovinces\b", PROVINCE),
    (r"城市|地市|哪些市|哪几个市|地级市|\bcities\b|\bprefectures\b", PREFECTURE),
    (r"区县|县区|县市|哪些县|哪几个县|\bcounties\b|\bdistricts\b", COUNTY),
]]


@dataclass(frozen=True)
class ListIntent:
    level: int | None = None  # the level of place each item is at (None: any)


def list_intent(question: str) -> ListIntent | None:
    """The list intent of a question (None: it asks for one thing)."""
    q = unicodedata.normalize("NFKC", question)
    if not (_LIST_ZH.search(q) or _LIST_EN.search(q)):
        return None
    level = next((lv for pattern, lv in _LEVELS if pattern.search(q)), None)
    return ListIntent(level)


def place_key(passage: dict, level: int | None) -> str | None:
    """The place at ``level`` an article is about (the first of its regions at that level: a
    city's article is no province's answer), None when it has none; without a level: the article."""
    if level is None:
        return f"{passage['source']}#{passage.get('article', 0)}"
    for code in passage.get("region_codes") or []:
        code = str(code)
        if (0 if code.endswith("0000") else 1 if code.endswith("00") else 2) == level:
            return code
    return None


def diversify(rows: list[int], passages: list, k: int, intent: ListIntent) -> list[int]:
    """The first ``k`` of ``rows`` (fused order) with one passage per article, and per place at
    the asked level (articles at that level first); the rest follow in their order."""
    first, later, seen_key, seen_article = [], [], set(), set()
    for r in rows:
        p = passages[r]
        article = (p["source"], p.get("article", 0))
        key = place_key(p, intent.level)
        if article in seen_article or (key is not None and key in seen_key):
            later.append(r)
            continue
        seen_article.add(article)
        if key is None and intent.level is not None:
            later.append(r)
            continue
        seen_key.add(key)
        first.append(r)
    chosen = first[:k]
    return chosen + [r for r in rows if r not in set(chosen)]


def list_items(passages: list, shares: list[float], holds_figure: list[bool], intent: ListIntent) -> list[int]:
    """Indexes of the passages that are items of the answer: each of its own place (article, or
    place at the asked level), its marked sentence holding the kind of figure asked (``holds_figure``)
    and at least ``ITEM_SHARE`` of the best such sentence's term share (``shares``)."""
    ok = [i for i in range(len(passages)) if holds_figure[i]]
    if not ok:
        return []
    best = max(shares[i] for i in ok)
    out, seen = [], set()
    for i in ok:
        key = place_key(passages[i], intent.level)
        if shares[i] < ITEM_SHARE * best or (intent.level is not None and key is None) or key in seen:
            continue
        seen.add(key)
        out.append(i)
    return out


def named_in(terms, store) -> list[str]:
    """The people, places and organisations a question names that some bulletin mentions: the
    names the question was understood with, and its words jieba tags as person or organisation
    names (nr / nt; a place only when the division list knows it: jieba tags 城市 ns too)."""
    from qa.text.chars import jieba_ready
    from qa.text.lexicon import places

    jieba_ready()
    import jieba.posseg

    known = places().by_name
    tagged = [w.word.lower() for w in jieba.posseg.cut(terms.text)
              if w.flag in ("nr", "nt", "nrt") or (w.flag == "ns" and w.word in known)]
    found = [n.lower() for n in terms.names] + [w for w in tagged if len(w) > 1 and store.mentioned(w)]
    return list(dict.fromkeys(found))


def items_of(store, ranking, cue, weights: dict[str, float]) -> tuple:
    """The items of a list question among the hits (:func:`list_items`), from each hit's marked
    sentence: its share of the question's weighted terms (``weights``), and whether it holds a
    figure of the kind the question asks for (``cue.asked``; any sentence when none is asked).
    When the question names people or places ("乔恒提出了哪些要求"), an item's passage names one
    of them (its text or its article's headline): the list is of what they did or have."""
    from qa.retrieve.highlight import figure_kinds
    from qa.text.variants import simplified

    total = sum(weights.values()) or 1.0
    names = named_in(ranking.terms, store) if ranking.terms else []
    rows, shares, holds = [], [], []
    for h in ranking:
        p = store.passages[h.row]
        named = not names or any(n in simplified(p.get("embed_text") or p["text"]).lower() for n in names)
        a, b = h.highlight or (0, 0)
        text = simplified(unicodedata.normalize("NFKC", p["text"][a:b])).lower()
        rows.append(p)
        shares.append(sum(w for t, w in weights.items() if t in text) / total)
        holds.append(named and bool(text) and (not cue.asked.kinds or bool(figure_kinds(text) & cue.asked.kinds)))
    return tuple(list_items(rows, shares, holds, ranking.listing))


def list_text(listed: list) -> str:
    """A list question's extractive answer: one line per item (a Passage), its place (or its
    article's title) and its marked sentence, cited by its rank."""
    return "\n".join(f"{n}. {p.region or p.title}: {(p.answer or p.text).strip()}[{p.rank}]"
                     for n, p in enumerate(listed, 1))
