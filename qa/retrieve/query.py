"""The question, understood against one index: its lexical terms in the corpus's language,
and what it constrains (the places, years and five-year plan periods it names).  Part of the retrieve stage.

* Chinese words are cut by the same tokenizer as the passages (jieba search mode).
* English words and phrases go through CC-CEDICT, inverted (``qa/text/lexicon.py``): "allowance"
  -> 津贴, 补贴; "social worker" -> 社会工作者.  Only Chinese words that occur in the corpus
  are kept; a gloss that reaches several of them gives each a share of the weight, so an
  ambiguous word weighs no more than a precise one.
* Romanised names ("Jiuquan", "Qiao Heng") go through the pinyin bridge, which holds only
  names: places of the administrative-division list and words that jieba's dictionary tags
  as names or does not know.  A Latin word is read as a possible name only if it is not a
  common English word (wordfreq Zipf frequency below ``NAME_MAX_ZIPF``), whatever its case:
  "Women" is English, "jiuquan" is a name.
* Places are recognised in Chinese (the division list's names and short forms) and in
  English (CC-CEDICT's proper-noun glosses and the pinyin of the division list).

``covered`` is the share of the question the lexical side can see: the Chinese part, plus the
English content words that reached a corpus term.  It sets the lexical lists' weight.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from qa.text import lexicon
from qa.text.tokens import _EN_STOP, tokenize
from qa.text.chars import CJK_CHAR as _CJK, zh_share
from qa.text.figures import YEAR

NAME_MAX_ZIPF = 4.0  # an English word more frequent than ~1 in 100,000 words is English, not a name
_LATIN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
# a word as the question's reader means it: without a possessive ("Henan's" -> "Henan"), and
# not the ordinal suffix of a number ("14th", "2nd")
_POSSESSIVE = re.compile(r"['’]s$", re.I)
_ORDINAL = re.compile(r"(?:st|nd|rd|th)$", re.I)
_YEAR = YEAR  # a year of the bulletins' era: qa/text/figures.py
# a five-year plan's period: 十四五 (the 14th), "14th Five-Year Plan"; like a year, what it names
_PERIOD_ZH = re.compile(r"(?<![一二三四五六七八九十])十([一二三四五六七八九])五(?![一二三四五六七八九十])")
_PERIOD_EN = re.compile(r"\b1([1-9])(?:st|nd|rd|th)?[\s-]+five[\s-]*years?\b", re.I)
_NUMERALS = "零一二三四五六七八九"


@dataclass
class PlaceMention:
    surface: str  # as the question writes it: 苏州, Suzhou, Xi'an
    places: list  # lexicon.Place candidates
    corpus_names: list[str] = field(default_factory=list)  # its names that occur in the corpus

    @property
    def label(self) -> str:
        names = sorted({p.short for p in self.places})
        zh = "/".join(names)
        return self.surface if self.surface in names else f"{zh} ({self.surface})"


@dataclass
class QueryTerms:
    text: str
    weights: dict[str, float]  # lexical term -> weight (BM25 and sentence-term scoring)
    names: list[str]  # corpus terms that are names the question names (places, people)
    places: list[PlaceMention]
    years: list[str]
    covered: float  # share of the question the lexical side sees (0..1)
    english: dict[str, list[str]] = field(default_factory=dict)  # English word/phrase -> corpus terms
    unbridged: list[str] = field(default_factory=list)  # English content words that reached nothing
    anchored: bool = True  # some term of two characters or more occurs in the corpus
    # English phrase (two words or more, a dictionary entry: "registration fee") that nothing
    # reached -> its CC-CEDICT translations of two characters or more (none is a corpus term;
    # the verdict asks whether the corpus text has any)
    dictionary_misses: dict[str, list[str]] = field(default_factory=dict)
    # such a phrase -> for each of its words, the corpus terms the second model found nearest
    # (the verdict asks whether the corpus has them side by side: 宗教信仰 for "religious beliefs")
    miss_parts: dict[str, list[list[str]]] = field(default_factory=dict)
    # five-year plan periods the question names: (label, the ways a text writes it)
    periods: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


_CONTRACTION = re.compile(r"['’](?:t|re|ll|ve|d|m|s)$", re.I)


def is_english_word(word: str) -> bool:
    """A common English word (wordfreq).  An apostrophe inside a word that is not an English
    contraction separates pinyin syllables (Xi'an), which makes it a name."""
    from wordfreq import zipf_frequency

    if ("'" in word or "’" in word) and not _CONTRACTION.search(word):
        return False
    return zipf_frequency(word.lower(), "en") >= NAME_MAX_ZIPF


def understand(query: str, vocab: dict, pinyin: dict[str, list[str]] | None, *, cedict: bool = True,
               use_pinyin: bool = True, word_bridge=None, without: frozenset = frozenset()) -> QueryTerms:
    """The question's terms for one index.  ``vocab``: the index's lexical vocabulary (term ->
    column); ``pinyin``: its pinyin bridge (toneless pinyin -> name terms of the corpus);
    ``word_bridge(words) -> {word: [terms]}``: an optional second bridge for English words
    CC-CEDICT does not reach (the second model's nearest corpus terms); ``without``: readings of
    the verdict left out (``name_any_word``, ``county``: qa/retrieve/verdict.py's READINGS).

    In order: the Chinese words (the passages' tokenizer) and the places written in Chinese;
    the romanised names; the English words and phrases through CC-CEDICT; what is left through
    the word bridge; then what the question names that nothing reached."""
    q = unicodedata.normalize("NFKC", query)
    t = _Terms(q, vocab)
    for w in tokenize(q):
        t.add(w)
    _chinese_places(t)
    latin = [(_POSSESSIVE.sub("", m.group(0)), m.start()) for m in _LATIN.finditer(q)
             if not (_ORDINAL.fullmatch(m.group(0)) and q[max(0, m.start() - 1):m.start()].isdigit())]
    words = [w.lower().replace("’", "'") for w, _ in latin]
    used = _romanised_names(t, latin, words, pinyin if use_pinyin else None, cedict, "county" not in without)
    content = [j for j, w in enumerate(words) if not used[j] and w not in _EN_STOP and len(w) > 1]
    reached = {j for j in range(len(words)) if used[j]}
    if cedict and content:
        reached |= _dictionary_words(t, words, content)
    reached |= {j for j in content if words[j] in vocab}  # an English word the corpus itself contains (NFL, covid)
    exact = set(reached)  # reached by a dictionary, a name or the corpus's own word, not by a neighbour
    if word_bridge is not None:
        reached |= _bridged_words(t, words, content, reached, word_bridge)
    unbridged = [words[j] for j in content if j not in reached]
    capitalised = {j for j, (w, _) in enumerate(latin) if w[:1].isupper() and "name_any_word" not in without}
    misses, parts = (_dictionary_misses(words, content, exact, reached, capitalised, t.english)
                     if cedict and len(exact) < len(content) + sum(used) else ({}, {}))
    anchored = any(w in vocab and len(w) > 1 for w in t.weights)
    n_content = len(content) + sum(used)
    en_cov = (len(reached) / n_content) if n_content else 0.0
    zh = zh_share(q)
    covered = zh + (1 - zh) * en_cov if latin else (1.0 if zh else 0.0)
    years = sorted(set(_YEAR.findall(q)))
    for zh_form, surface in _periods_named(q):  # "14th Five-Year Plan" reaches the corpus's 十四五
        if zh_form != surface and zh_form in vocab and zh_form not in t.weights:
            t.add(zh_form)
            t.english[surface.lower()] = [zh_form]
    return QueryTerms(q, t.weights, t.names, t.places, years, covered, t.english, unbridged, anchored, misses, parts,
                      plan_periods(q))


def _periods_named(text: str) -> list[tuple[str, str]]:
    """(十X五, as the text writes it) for each five-year plan period a text names."""
    found = [(f"十{m.group(1)}五", m.group(0)) for m in _PERIOD_ZH.finditer(text)]
    return found + [(f"十{_NUMERALS[int(m.group(1))]}五", m.group(0)) for m in _PERIOD_EN.finditer(text)]


def plan_periods(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """The five-year plans a question names, as (label, the ways a bulletin writes it):
    十五五 -> ("十五五", ("十五五", "第十五个五年")); "15th Five-Year Plan" -> ("十五五 (15th Five-Year)", …).
    Like a year, a period no bulletin names is something the bulletins do not cover (a 十三五
    figure is not a 十四五 one)."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for zh, surface in _periods_named(text):
        label = zh if surface == zh else f"{zh} ({surface})"
        if all(zh != forms[0] for _l, forms in out):
            out.append((label, (zh, f"第{zh[:2]}个五年")))
    return out


@dataclass
class _Terms:
    """What ``understand`` gathers as it reads the question."""

    text: str
    vocab: dict
    weights: dict[str, float] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    english: dict[str, list[str]] = field(default_factory=dict)

    def add(self, term: str, weight: float = 1.0, name: bool = False) -> None:
        self.weights[term] = self.weights.get(term, 0.0) + weight
        if name and term not in self.names:
            self.names.append(term)

    def place(self, surface: str, found: list) -> PlaceMention:
        m = PlaceMention(surface, found)
        m.corpus_names = _present([n for p in found for n in p.names], self.vocab)
        self.places.append(m)
        return m


def _chinese_places(t: _Terms) -> None:
    """Places written in Chinese (the division list's names and short forms)."""
    zh_text = "".join(c if _CJK.match(c) else " " for c in t.text)
    for a, b, found in lexicon.places().find(zh_text):
        m = t.place(zh_text[a:b], found)
        t.names += [n for n in m.corpus_names if n not in t.names]


def _romanised_names(t: _Terms, latin: list[tuple[str, int]], words: list[str], pinyin: dict | None,
                     cedict: bool, county_rule: bool = True) -> list[bool]:
    """Romanised names, one word or two adjacent ones ("Qiao Heng"): the pinyin bridge's
    corpus names and the places of the division list (by pinyin, or CC-CEDICT's English
    names: Harbin, Urumqi).  Returns which words were read as names."""
    P = lexicon.places()
    used = [False] * len(words)

    def take(i: int, n: int, terms: list[str], found: list) -> None:
        """Words i..i+n are a name: its corpus terms (and the places' names the corpus has)."""
        if found:
            m = t.place(" ".join(latin[j][0] for j in range(i, i + n)), found)
            terms = terms + [x for x in m.corpus_names if x not in terms]
        for x in terms:
            t.add(x, name=True)
        t.english[" ".join(words[i:i + n])] = terms
        used[i:i + n] = [True] * n

    for i in range(len(words)):
        if used[i]:
            continue
        n, found = _english_place(words, i) if cedict else (0, [])
        if found:  # a name of several words, English ones among them: Inner Mongolia, Hong Kong
            take(i, n, [], found)
            continue
        for n in (2, 1):
            span = words[i:i + n]
            if len(span) < n or any(used[i:i + n]) or any(is_english_word(w) for w in span):
                continue
            key = "".join(span).replace("'", "")
            terms = list((pinyin or {}).get(key, []))
            # a county's bare name is too short to be sure of (Yuan, jingle): it counts as a
            # place when the question says "County"/"District" after it
            county = (words[i + n] if i + n < len(words) else "") in ("county", "district") or not county_rule
            found = [p for p in P.pinyin.get(key, []) if county or p.level < 2]
            if not found and cedict:  # an English name that is not pinyin: Harbin, Urumqi, Lhasa, Shaanxi
                found = [p for x in lexicon.english_to_chinese().get(key, []) for p in P.by_name.get(x, [])]
                if not found and n == 1:  # CC-CEDICT's names of places (Shaanxi), counties as above
                    found = [p for p in lexicon.english_place_names().get(key, []) if county or p.level < 2]
            if terms or found:
                take(i, n, terms, found)
                break
    return used


def _english_place(words: list[str], i: int) -> tuple[int, list]:
    """The longest run of two or three words from ``i`` that CC-CEDICT gives as the English name
    of a place of the division list (lexicon.english_place_names): (its length, the places), or
    (0, []).  English words may be part of such a name; one word alone goes the way of the
    other romanised names (a common English word is not a name)."""
    table = lexicon.english_place_names()
    for n in (3, 2):
        found = table.get(" ".join(words[i:i + n])) if i + n <= len(words) else None
        if found:
            return n, found
    return 0, []


def _dictionary_words(t: _Terms, words: list[str], content: list[int]) -> set[int]:
    """English words and phrases through CC-CEDICT (longest first): each reaches the corpus
    terms it glosses, which share its weight (an ambiguous word weighs no more than a precise
    one; words of two characters or more preferred).  Returns the word positions reached."""
    table = lexicon.english_to_chinese()
    lemmas = [lexicon.lemma(words[j]) for j in content]
    reached: set[int] = set()
    # only keys that reach a corpus term: a two-word gloss absent from the corpus gives way to its words
    for a, b, key in lexicon.phrases(lemmas, table, accept=lambda key: any(x in t.vocab for x in table[key])):
        cands = _present(table[key], t.vocab)
        cands = [x for x in cands if len(x) > 1] or cands
        for x in cands:
            t.add(x, 1.0 / len(cands))
        t.english[" ".join(words[j] for j in content[a:b])] = cands
        reached.update(content[a:b])
    return reached


def _bridged_words(t: _Terms, words: list[str], content: list[int], reached: set[int], word_bridge) -> set[int]:
    """English words nothing else reached, through the second bridge (``word_bridge``)."""
    out: set[int] = set()
    for w, terms in word_bridge([words[j] for j in content if j not in reached]).items():
        for x in terms:
            t.add(x)
        if terms:
            t.english[w] = terms
            out.update(j for j in content if words[j] == w)
    return out


def _dictionary_misses(words: list[str], content: list[int], exact: set[int], reached: set[int],
                       capitalised: set[int], neighbours: dict[str, list[str]]
                       ) -> tuple[dict[str, list[str]], dict[str, list[list[str]]]]:
    """English dictionary phrases of two words or more none of whose words a dictionary reached
    (``exact``: the words reached by CC-CEDICT, a name or the corpus's own word; the second
    model's nearest terms are neighbours, not translations, and cannot vouch for a phrase such
    as "registration fee") -> their CC-CEDICT translations of two characters or more (none a
    corpus term; the verdict asks whether the corpus text has any), and each word's
    ``neighbours`` (the second model's).  A name (every word ``capitalised``: Lady Gaga, whom
    CC-CEDICT calls 嘎嘎小姐 and the articles 女神卡卡) has several renderings: a word of it
    reached any way (``reached``) is enough.  One English word has too many senses to say what
    the corpus lacks."""
    table = lexicon.english_to_chinese()
    lemmas = [lexicon.lemma(words[j]) for j in content]
    misses: dict[str, list[str]] = {}
    parts: dict[str, list[list[str]]] = {}
    for a, b, key in lexicon.phrases(lemmas, table):
        name = all(content[j] in capitalised for j in range(a, b))
        if b - a < 2 or any(content[j] in (reached if name else exact) for j in range(a, b)):
            continue
        cands = [x for x in table[key] if len(x) > 1]
        if cands:
            phrase = " ".join(words[j] for j in content[a:b])
            misses[phrase] = cands
            parts[phrase] = [neighbours.get(words[content[j]], []) for j in range(a, b)]
    return misses, parts


def _present(terms: list[str], vocab: dict) -> list[str]:
    out = []
    for t in terms:
        if t in vocab and t not in out:
            out.append(t)
    return out
