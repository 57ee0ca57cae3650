"""The answering sentence of a passage: the one that holds what the question asks for.

Part of the retrieve stage (it reads the question as ``qa/query.py`` understood it).  A
sentence scores by its share of the question's (IDF-weighted) terms; a question that asks
for a quantity, a date or a target prefers a sentence that holds a figure; a place name
counts for less, because every sentence of an article about a place is about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .query import QueryTerms


# A question that asks for a quantity, a date or a target wants the sentence with the figure.
# Interrogative forms (a closed class of the two languages), not words of any bulletin.
_WANTS_FIGURE = re.compile(r"多少|几[个名人家所项次条章年月天岁倍]?|多[大高长久远]|数量|比例|比率|百分之|哪一?年|何时|什么时候"
                           r"|\bhow (many|much|long|old|far|large|big|high)\b|\bwhat (number|percentage|proportion|share"
                           r"|year|amount)\b|\bwhich year\b|\bwhen\b|\bin what year\b", re.I)
_FIGURE = re.compile(r"\d|[零一二三四五六七八九十百千万亿两]+[个名人家所项次条万亿章节倍户元岁年月日%]")
FIGURE_BONUS = 0.5  # share of a sentence's score for holding a figure, when the question asks for one
NAME_SHARE = 0.25  # a name's weight in choosing the sentence: the article names the place anyway


@dataclass(frozen=True)
class AnswerCue:
    weights: dict[str, float]  # query term -> weight for choosing the answering sentence
    wants_figure: bool


def answer_cue(terms: QueryTerms) -> AnswerCue:
    names = set(terms.names) | {n for m in terms.places for n in m.corpus_names}
    w = {t: v * (NAME_SHARE if t in names else 1.0) for t, v in terms.weights.items()}
    return AnswerCue(w, bool(_WANTS_FIGURE.search(terms.text)))


def best_sentence(spans: list[tuple[int, int]], texts: list[str], weights: dict[str, float],
                  sims: np.ndarray | None = None, wants_figure: bool = False) -> tuple[int, int]:
    """The span of the sentence that best answers: its share of the (IDF-weighted) query terms,
    plus ``FIGURE_BONUS`` when the question asks for a figure and the sentence holds one, plus
    (ensemble) the second model's similarity of the sentence to the query.
    ``texts``: the sentences NFKC-normalised and lower-cased, one per span."""
    total = sum(weights.values()) or 1.0
    best, best_score = spans[0], -1e9
    for n, (span, sent) in enumerate(zip(spans, texts)):
        score = sum(w for t, w in weights.items() if t in sent) / total
        if wants_figure and _FIGURE.search(sent):
            score += FIGURE_BONUS
        if sims is not None:
            score += float(sims[n])
        if score > best_score:
            best, best_score = span, score
    return best
