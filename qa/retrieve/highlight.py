"""The answering sentence of a passage: the one that holds what the question asks for.

Part of the retrieve stage (it reads the question as ``qa/retrieve/query.py`` understood it).

* A sentence scores by its share of the question's IDF-weighted terms (``term_weights`` in
  ``qa/retrieve/retriever.py``; an English question's terms are the Chinese terms it was bridged to).
  A name (of a place or person the question names, or a word cut out of one: 山区 of 万山区)
  counts for a quarter (``NAME_SHARE``): every sentence of an article about a place is about
  it, so naming the place alone does not make a sentence the answer.
* What the question asks for is read from a closed class of interrogative forms and
  quantity nouns of the two languages (``_ASKS``): 多少 / 几 / how many / how much / what
  target, goal, standard, allowance ... ask for a figure; 哪年 / 何时 / when / which year ask
  for a date; 多久 / how long for a duration; 比例 / percentage / rate for a share.  A figure
  is a number (digits or Chinese numerals) with a unit of its kind (``_FIGURES``): 200余个,
  300名, 8万人, 500元, 50%, 3个月, 2025年, 2月21日.  A bare number ("1+6"), a year, an
  ordinal (第四章) or a lone 一 (一章中, 一个社区: an article) is not a count.  A sentence
  holding a figure of the kind asked gains ``FIGURE_BONUS``; one holding another quantity
  gains a part of it (``OTHER_FIGURE_SHARE``).
* When the question names places and a passage speaks of several, a sentence that names only
  other places (none of them the asked place, inside it or containing it) while another
  sentence names the asked one is about somewhere else: its score is scaled by
  ``OTHER_PLACE_SHARE`` (a city's subsidy is not the one of the county listed beside it).

* A sentence that opens with a pronoun or a demonstrative (他 / 她们 / 其 / 该 / 这些 / he / they
  / this ...: closed classes of both languages) means nothing quoted alone: the highlight then
  takes in the sentence before it, in the same paragraph (:func:`with_antecedent`), so that a
  quote names who or what it is about.

None of this is a word of any one question or bulletin: the interrogatives, units and
classifiers are closed classes of the languages, the places come from the division list.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.retrieve.query import QueryTerms
from qa.text.chars import CJK_CHAR as _CJK
from qa.text.tokens import bigrams
from qa.text.figures import CN_NUMERAL, DIGITS

FIGURE_BONUS = 0.5  # added to a sentence's term share when it holds a figure of the kind asked
OTHER_FIGURE_SHARE = 0.5  # share of the bonus for another quantity (a count when a share is asked)
NAME_SHARE = 0.25  # a name's weight in choosing the sentence: the article names the place anyway
OTHER_PLACE_SHARE = 0.5  # a sentence naming only places the question does not ask about

COUNT, MONEY, PERCENT, DATE, DURATION = "count", "money", "percent", "date", "duration"
QUANTITY = frozenset({COUNT, MONEY, PERCENT})  # what "多少", "how much", "target" may ask for
ALL_KINDS = QUANTITY | {DATE, DURATION}

# --------------------------------------------------------------------------- the question

_CLS = "个名人家所项次条章支户场批位座部门"  # classifiers a count question uses: 多少个, 几名 ...
_NOT_AMOUNT = r"(?!\s*(?:制度|体系|机制|政策|办法|方案|结构|system|scheme|polic|mechanism))"  # 报酬体系: a name
# (pattern, kinds asked), matched on the NFKC, lower-cased question.  Chinese interrogatives
# and quantity nouns, then English ones.  The kinds of all the specific matches are united; the
# generic ones (多少, target, how much: any quantity) count only when nothing specific matched.
_ASKS: list[tuple[re.Pattern, frozenset]] = [(re.compile(p, re.I), frozenset(k)) for p, k in [
    (r"哪一?[年天日]|何时|什么时[候间]|几月|几[号日](?!内)|哪个月|日期|哪几年", {DATE}),
    (r"多久|多长时间|多长|几个?[月年天周]|多少个?[月年天周](?!底)|时长|期限", {DURATION}),
    (r"比例|比率|比重|占比|百分之|百分比|(?<![效频概税利汇])率(?![先领])", {PERCENT}),
    (rf"(?:多少钱|金额|津贴|补贴|补助|奖励|奖金|报酬|工资|薪酬|薪资){_NOT_AMOUNT}", {MONEY}),
    (rf"几(?![个]?[月年天周号日时])[{_CLS}]?|多少(?:个(?![月年天周])|[{_CLS[1:]}])|数量|人数|个数|户数|总数|总量|规模",
     {COUNT}),
    (r"\bwhen\b|\b(?:what|which)\s+(?:date|day|year|month)s?\b|\bwhat time\b", {DATE}),
    (r"\bhow long\b|\bhow many\s+(?:years|months|weeks|days|hours)\b|\bduration\b", {DURATION}),
    (r"\bpercent(?:age)?s?\b|\bproportions?\b|\bratios?\b|\brates?\b|\bcoverage\b|%", {PERCENT}),
    (rf"\b(?:allowances?|subsid(?:y|ies)|stipends?|bonus(?:es)?|rewards?|salar(?:y|ies)|wages?|amounts?"
     rf"|costs?|fees?)\b{_NOT_AMOUNT}|\bhow much money\b", {MONEY}),
    (r"\bhow many\b(?!\s+(?:years|months|weeks|days|hours)\b)|\bnumber of\b|\btotals?\b|\bcount\b|\bsize\b",
     {COUNT}),
]]
_ASKS_ANY_QUANTITY = re.compile(r"多少|多大|多高|目标|指标|标准|\bhow much\b|\btargets?\b|\bgoals?\b"
                                r"|\bstandards?\b|\bindicators?\b|\bquotas?\b", re.I)
# a question asking what something is called wants a name, not a figure (报酬体系叫什么)
_ASKS_NAME = re.compile(r"叫什么|什么名字|名称|\bname\b|\bcalled\b", re.I)


def asked_kinds(question: str) -> frozenset:
    """The kinds of figure a question asks for (empty: it does not ask for one)."""
    if _ASKS_NAME.search(question):
        return frozenset()
    out: set = set()
    for pattern, kinds in _ASKS:
        if pattern.search(question):
            out |= kinds
    if not out and _ASKS_ANY_QUANTITY.search(question):
        out = set(QUANTITY)
    return frozenset(out)


# --------------------------------------------------------------------------- the sentence

_D = DIGITS  # digits, 1,200 / 82.9 (not an ordinal: 第4章): qa/text/figures.py
# Chinese numerals, not an ordinal (第四章) nor a lone 一, which is mostly an article (一章中, 一批)
_Z = CN_NUMERAL  # Chinese numerals, not an ordinal nor a lone 一: qa/text/figures.py
_MAG = r"[十百千万亿]*[余多]?"  # 3万余 / 200余 / 80多
_FIGURES: list[tuple[re.Pattern, str]] = [(re.compile(p), k) for p, k in [
    (rf"{_D}\s*%|百分之[零〇一二两三四五六七八九十百点]+", PERCENT),
    (rf"(?:{_D}|{_Z}){_MAG}\s*(?:美元|元)", MONEY),
    (rf"{_D}{_MAG}\s*(?:个(?![月工])|名|人|家|所|项|次|条|章|节|支|户|张|处|场|期|批|位|座|间|台|件|类|种|级|套|部门|部|本"
     rf"|篇|份|床|村|镇|站|队|门|万|亿)", COUNT),
    (rf"{_Z}[万亿]?[余多]?(?:个(?![月工])|名|人|家|所|项|支|户|座|位|条|章|部门|万|亿)", COUNT),
    (r"(?<!\d)(?:1[89]|20)\d\d\s*年|[〇零一二]{4}年|\d{1,2}\s*月\s*\d{1,2}\s*[日号]", DATE),
    (r"(?<![\d第])(?:\d{1,3}|[一二两三四五六七八九十半]+)\s*(?:个月|个工作日|年(?![底末初度代])|天|周|小时)", DURATION),
]]


@lru_cache(maxsize=1 << 16)
def figure_kinds(sentence: str) -> frozenset:
    """The kinds of figure a sentence holds: a number with a unit of its kind."""
    return frozenset(k for pattern, k in _FIGURES if pattern.search(sentence))


# --------------------------------------------------------------------------- the cue


@dataclass(frozen=True)
class Asked:
    """What the question asks for: the kinds of figure (``kinds``) and the places it names
    (``places``: qa.text.lexicon.Place).  True when it asks for a figure."""

    kinds: frozenset = frozenset()
    places: tuple = ()

    def __bool__(self) -> bool:
        return bool(self.kinds)


@dataclass(frozen=True)
class AnswerCue:
    weights: dict[str, float]  # query term -> weight for choosing the answering sentence
    asked: Asked = field(default_factory=Asked)  # what the question asks for (true when a figure)
    grams: frozenset = frozenset()  # the question's Chinese character bigrams (NFKC, lower-case)


def answer_cue(terms: QueryTerms) -> AnswerCue:
    names = set(terms.names) | {n for m in terms.places for n in m.corpus_names}
    names |= {m.surface.lower() for m in terms.places}
    # a name, or a word cut out of one (万山区 -> 山区, 夹江县 -> 夹江)
    w = {t: v * (NAME_SHARE if any(t in n for n in names) else 1.0) for t, v in terms.weights.items()}
    places = tuple(dict.fromkeys(p for m in terms.places for p in m.places))
    return AnswerCue(w, Asked(asked_kinds(terms.text), places), question_grams(terms.text))


def question_grams(question: str) -> frozenset:
    """The Chinese character bigrams of a question, names left out (they are every sentence's)."""
    q = unicodedata.normalize("NFKC", question).lower()
    return frozenset(g for g in bigrams(q) if len(g) == 2 and all(_CJK.match(c) for c in g))


@lru_cache(maxsize=1 << 16)
def places_in(sentence: str) -> tuple:
    """The places (qa.text.lexicon.Place) a sentence names, by the division list."""
    from qa.text.lexicon import places as division_list

    return tuple(p for _a, _b, hit in division_list().find(sentence) for p in hit)


def _elsewhere(texts: list[str], places: tuple) -> list[bool]:
    """For each sentence: True when it names only places other than the asked ones (none of
    them is, holds or lies in an asked place) while another sentence of the passage names an
    asked one.  A passage that never names the asked place is about it or not as a whole (its
    title may name it): its sentences are not told apart by that."""
    if not places:
        return [False] * len(texts)
    verdicts = []  # None: names no place; True: names an asked place; False: names only others
    for sent in texts:
        found = places_in(sent)
        verdicts.append(any(p.within(q) or q.within(p) for p in found for q in places) if found else None)
    if True not in verdicts:
        return [False] * len(texts)
    return [v is False for v in verdicts]


def best_sentence(spans: list[tuple[int, int]], texts: list[str], weights: dict[str, float],
                  sims: np.ndarray | None = None, asked: Asked | bool = False) -> tuple[int, int]:
    """The span of the sentence that best answers: its share of the (IDF-weighted) query terms,
    plus ``FIGURE_BONUS`` when it holds a figure of the kind the question asks for (a part of
    it for another quantity), scaled by ``OTHER_PLACE_SHARE`` when it names only places the
    question does not (while another sentence names an asked one), plus ``sims`` (one per
    sentence: its embedding similarity to the question, when the index holds sentence
    vectors).  ``texts``: the sentences NFKC-normalised and lower-cased, one per span;
    ``asked``: an :class:`Asked` (``True``: any figure; ``False``: none).  Ties go to the
    earlier sentence."""
    if not isinstance(asked, Asked):
        asked = Asked(ALL_KINDS if asked else frozenset())
    want = asked.kinds
    want_amount = bool(want - {DATE})
    total = sum(weights.values()) or 1.0
    elsewhere = _elsewhere(texts, asked.places)
    best, best_score = spans[0], -1e9
    for n, (span, sent) in enumerate(zip(spans, texts)):
        score = sum(w for t, w in weights.items() if t in sent) / total
        if want:
            held = figure_kinds(sent)
            if held & want:
                score += FIGURE_BONUS
            elif want_amount and held - {DATE}:
                score += FIGURE_BONUS * OTHER_FIGURE_SHARE
        if elsewhere[n]:
            score *= OTHER_PLACE_SHARE
        if sims is not None:
            score += float(sims[n])
        if score > best_score:
            best, best_score = span, score
    return best


# third-person pronouns and demonstratives a sentence may open with, pointing back (closed classes)
# (他 covers 他们, 这 covers 这些 / 这种 ...: the sentence only has to open with one)
_ANAPHOR = re.compile(r"^[\s“”\"'（(]*(?:[他她它其该此这]|th(?:ose|ese|ey|is|at|eir)|s?he|his|her|its?)(?![a-z])", re.I)


def with_antecedent(spans: list[tuple[int, int]], texts: list[str], chosen: tuple[int, int],
                    text: str | None = None) -> tuple[int, int]:
    """``chosen`` widened to start at the sentence before it when it opens with a pronoun or a
    demonstrative (``texts``: the sentences as ``best_sentence`` reads them) and that sentence is
    in the same paragraph of ``text`` (no line break between them)."""
    i = spans.index(chosen) if chosen in spans else -1
    if i <= 0 or not _ANAPHOR.match(texts[i]):
        return chosen
    prev = spans[i - 1]
    if text is not None and "\n" in text[prev[1]:chosen[0]]:
        return chosen
    return prev[0], chosen[1]


# --------------------------------------------------------------------------- the fitted scorer
#
# The sentence marked is the one a small linear scorer puts first among its passage's sentences
# (a conditional logit: a softmax over the passage's sentences), over the features below; its
# weights are fitted by ``benchmarks/fit_sentence.py`` on every dev set (held-out folds by
# article reported there) and kept in ``sentence_weights.json`` beside this file.  When the
# second sentence scores within ``close`` of the first, both are marked.

_WEIGHTS = Path(__file__).with_name("sentence_weights.json")
FEATURES = (
    "sim",  # e5 similarity of the sentence (its article's title as context) to the question
    "sim_gap",  # ... less the passage's best: how it stands in the context of its passage
    "prev_sim_gap", "next_sim_gap",  # the neighbours' (the question's words before, the fact after)
    "terms",  # share of the question's IDF-weighted terms (names at NAME_SHARE)
    "terms_gap",  # ... less the passage's best
    "local_terms",  # the same, each term weighted by how few of the passage's sentences hold it
    "local_gap",
    "prev_terms", "next_terms",  # the neighbours' share
    "grams",  # share of the question's Chinese character bigrams it holds
    "grams_gap",
    "figure",  # holds a figure of the kind asked
    "other_figure",  # holds another quantity while an amount is asked
    "no_figure",  # holds none while one is asked
    "elsewhere",  # names only places other than the asked ones (another sentence names one)
    "first", "last", "position",  # where it stands in the passage (0 .. 1)
    "length",  # log of its length in characters
    "anaphor",  # opens with a pronoun or a demonstrative (takes in the sentence before)
)


@lru_cache(maxsize=1)
def sentence_model() -> dict | None:
    """The fitted scorer (``sentence_weights.json``): its features, their mean and scale, the
    weights and ``close``; None when the file is missing or was fitted on other features."""
    try:
        model = json.loads(_WEIGHTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return model if tuple(model.get("features", ())) == FEATURES else None


def _neighbours(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's previous and next value; the passage's lowest where there is none."""
    low = float(values.min()) if len(values) else 0.0
    prev = np.concatenate([[low], values[:-1]]) if len(values) else values
    nxt = np.concatenate([values[1:], [low]]) if len(values) else values
    return prev, nxt


def sentence_features(texts: list[str], weights: dict[str, float], sims: np.ndarray | None,
                      asked: Asked, grams: frozenset = frozenset()) -> np.ndarray:
    """One row of ``FEATURES`` per sentence (``texts``: NFKC, lower-cased), as the scorer reads them."""
    n = len(texts)
    total = sum(weights.values()) or 1.0
    held_terms = [[t for t in weights if t in s] for s in texts]
    terms = np.array([sum(weights[t] for t in ts) / total for ts in held_terms])
    df: dict[str, int] = {}
    for ts in held_terms:
        for t in ts:
            df[t] = df.get(t, 0) + 1
    local = np.array([sum(weights[t] * np.log1p(n / df[t]) for t in ts) for ts in held_terms]) / (total * np.log1p(n))
    share = np.array([sum(1 for g in grams if g in s) / len(grams) for s in texts]) if grams else np.zeros(n)
    sim = np.asarray(sims, dtype=float) if sims is not None else np.zeros(n)
    want = asked.kinds
    held = [figure_kinds(s) for s in texts]
    figure = np.array([bool(want and h & want) for h in held], dtype=float)
    other = np.array([bool(want - {DATE} and not h & want and h - {DATE}) for h in held], dtype=float)
    none = np.array([bool(want) for _ in texts], dtype=float) * (1 - figure) * (1 - other)
    prev_sim, next_sim = _neighbours(sim - sim.max())
    prev_terms, next_terms = _neighbours(terms)
    pos = np.arange(n, dtype=float)
    columns = {
        "sim": sim, "sim_gap": sim - sim.max(), "prev_sim_gap": prev_sim, "next_sim_gap": next_sim,
        "terms": terms, "terms_gap": terms - terms.max(), "prev_terms": prev_terms, "next_terms": next_terms,
        "local_terms": local, "local_gap": local - local.max(),
        "grams": share, "grams_gap": share - share.max(), "figure": figure, "other_figure": other,
        "no_figure": none, "elsewhere": np.array(_elsewhere(texts, asked.places), dtype=float),
        "first": (pos == 0).astype(float), "last": (pos == n - 1).astype(float),
        "position": pos / max(n - 1, 1), "length": np.log1p([len(s) for s in texts]),
        "anaphor": np.array([bool(_ANAPHOR.match(s)) for s in texts], dtype=float),
    }
    return np.column_stack([columns[f] for f in FEATURES])


def sentence_scores(features: np.ndarray, model: dict) -> np.ndarray:
    """The scorer's score of each sentence (the features standardised, times the weights)."""
    mean, scale = np.asarray(model["mean"]), np.asarray(model["scale"])
    return ((features - mean) / scale) @ np.asarray(model["weights"])


def marked_sentences(spans: list[tuple[int, int]], texts: list[str], weights: dict[str, float],
                     sims: np.ndarray | None, asked: Asked, grams: frozenset = frozenset(),
                     text: str | None = None) -> list[tuple[int, int]]:
    """The spans to mark, the answering sentence first: the fitted scorer's best sentence, and
    the second when it scores within the model's ``close`` of it; each widened to its antecedent
    (:func:`with_antecedent`).  Without a fitted model: :func:`best_sentence` alone."""
    model = sentence_model()
    if model is None or len(spans) == 1:
        return [with_antecedent(spans, texts, best_sentence(spans, texts, weights, sims, asked), text)]
    scores = sentence_scores(sentence_features(texts, weights, sims, asked, grams), model)
    order = np.argsort(-scores, kind="stable")
    picked = [int(order[0])]
    if scores[order[0]] - scores[order[1]] < model.get("close", 0.0):
        picked.append(int(order[1]))
    return joined([with_antecedent(spans, texts, spans[i], text) for i in picked])


def joined(marks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Two marks that overlap become one (a widened sentence holding the other)."""
    if len(marks) == 2 and max(marks[0][0], marks[1][0]) < min(marks[0][1], marks[1][1]):
        return [(min(m[0] for m in marks), max(m[1] for m in marks))]
    return marks


def through_semicolons(spans: list[tuple[int, int]], mark: tuple[int, int], text: str) -> tuple[int, int]:
    """``mark`` carried on to the end of its sentence when it ends in a semicolon: in Chinese
    typography ；separates the items of one enumeration ("要广泛宣传…；要扩大队伍…；…。"), which a
    list question asks for whole (the splitter cuts at ；, qa/text/sentences.py).  Stops at a line
    break, at a 。！？ or at the passage's end."""
    start, end = mark
    for a, b in spans:
        if a < end:
            continue
        if a != end or not text[start:end].rstrip().endswith(("；", ";")) or "\n" in text[end:a + 1]:
            break
        end = b
    return start, end
