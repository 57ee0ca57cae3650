"""The question, understood against one index: its lexical terms in the corpus's language,
and what it constrains (the places and years it names).  Part of the retrieve stage.

* Chinese words are cut by the same tokenizer as the passages (jieba search mode).
* English words and phrases go through CC-CEDICT, inverted (``qa/lexicon.py``): "allowance"
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

from . import lexicon
from .lexical import _EN_STOP, tokenize

NAME_MAX_ZIPF = 4.0  # an English word more frequent than ~1 in 100,000 words is English, not a name
_LATIN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
# a word as the question's reader means it: without a possessive ("Henan's" -> "Henan"), and
# not the ordinal suffix of a number ("14th", "2nd")
_POSSESSIVE = re.compile(r"['’]s$", re.I)
_ORDINAL = re.compile(r"(?:st|nd|rd|th)$", re.I)
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-9]\d)(?!\d)")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


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


def zh_share(text: str) -> float:
    """Share of the question that is Chinese: CJK characters against Latin words (a word ~ 2 characters)."""
    cjk = len(_CJK.findall(text))
    words = len(_LATIN.findall(text))
    return cjk / (cjk + 2 * words) if cjk + words else 0.0


_CONTRACTION = re.compile(r"['’](?:t|re|ll|ve|d|m|s)$", re.I)


def is_english_word(word: str) -> bool:
    """A common English word (wordfreq).  An apostrophe inside a word that is not an English
    contraction separates pinyin syllables (Xi'an), which makes it a name."""
    from wordfreq import zipf_frequency

    if ("'" in word or "’" in word) and not _CONTRACTION.search(word):
        return False
    return zipf_frequency(word.lower(), "en") >= NAME_MAX_ZIPF


def understand(query: str, vocab: dict, pinyin: dict[str, list[str]] | None, *, cedict: bool = True,
               use_pinyin: bool = True, word_bridge=None) -> QueryTerms:
    """The question's terms for one index.  ``vocab``: the index's lexical vocabulary (term ->
    column); ``pinyin``: its pinyin bridge (toneless pinyin -> name terms of the corpus);
    ``word_bridge(words) -> {word: [terms]}``: an optional second bridge for English words
    CC-CEDICT does not reach (the second model's nearest corpus terms)."""
    q = unicodedata.normalize("NFKC", query)
    weights: dict[str, float] = {}
    for t in tokenize(q):
        weights[t] = weights.get(t, 0.0) + 1.0
    names: list[str] = []
    places: list[PlaceMention] = []
    P = lexicon.places()

    def in_corpus(term: str) -> bool:
        return term in vocab

    # places written in Chinese
    zh_text = "".join(c if _CJK.match(c) else " " for c in q)
    for a, b, found in P.find(zh_text):
        m = PlaceMention(zh_text[a:b], found)
        m.corpus_names = _present([n for p in found for n in p.names], vocab)
        places.append(m)
        names += [n for n in m.corpus_names if n not in names]

    # English: names first (pinyin, place glosses), then words and phrases through CC-CEDICT
    latin = [(_POSSESSIVE.sub("", m.group(0)), m.start()) for m in _LATIN.finditer(q)
             if not (_ORDINAL.fullmatch(m.group(0)) and q[max(0, m.start() - 1):m.start()].isdigit())]
    words = [w.lower().replace("’", "'") for w, _ in latin]
    used = [False] * len(words)
    english: dict[str, list[str]] = {}
    for i in range(len(words)):  # romanised names: one word, or two adjacent ones ("Qiao Heng")
        if used[i]:
            continue
        for n in (2, 1):
            span = words[i:i + n]
            if len(span) < n or any(used[i:i + n]) or any(is_english_word(w) for w in span):
                continue
            key = "".join(span).replace("'", "")
            terms = (pinyin or {}).get(key, []) if use_pinyin else []
            found = P.pinyin.get(key, [])
            if (words[i + n] if i + n < len(words) else "") not in ("county", "district"):
                # a county's bare pinyin is too short to be sure of (Yuan, jingle): it counts
                # as a place when the question says "County"/"District" after it
                found = [p for p in found if p.level < 2]
            if not found and cedict:  # an English name that is not pinyin: Harbin, Urumqi, Lhasa
                found = [p for t in lexicon.english_to_chinese().get(key, []) for p in P.by_name.get(t, [])]
            if found:
                m = PlaceMention(" ".join(latin[j][0] for j in range(i, i + n)), found)
                m.corpus_names = _present([x for p in found for x in p.names], vocab)
                places.append(m)
                terms = terms + [t for t in m.corpus_names if t not in terms]
            if terms or found:
                for t in terms:
                    weights[t] = weights.get(t, 0.0) + 1.0
                    if t not in names:
                        names.append(t)
                english[" ".join(span)] = terms
                for j in range(i, i + n):
                    used[j] = True
                break
    content = [j for j, w in enumerate(words) if not used[j] and w not in _EN_STOP and len(w) > 1]
    reached = set(j for j in range(len(words)) if used[j])
    if cedict and content:
        table = lexicon.english_to_chinese()
        lemmas = [lexicon.lemma(words[j]) for j in content]
        # only keys that reach a corpus term: a two-word gloss absent from the corpus gives way to its words
        for a, b, key in lexicon.phrases(lemmas, table, accept=lambda key: any(t in vocab for t in table[key])):
            cands = _present(table[key], vocab)
            multi = [t for t in cands if len(t) > 1]
            cands = multi or cands
            for t in cands:
                weights[t] = weights.get(t, 0.0) + 1.0 / len(cands)
            english[" ".join(words[j] for j in content[a:b])] = cands
            reached.update(content[a:b])
    for j in content:  # an English word the corpus itself contains (NFL, covid)
        if words[j] in vocab:
            reached.add(j)
    if word_bridge is not None:
        rest = [words[j] for j in content if j not in reached]
        for w, terms in word_bridge(rest).items():
            for t in terms:
                weights[t] = weights.get(t, 0.0) + 1.0
            if terms:
                english[w] = terms
                reached.update(j for j in content if words[j] == w)
    unbridged = [words[j] for j in content if j not in reached]
    misses: dict[str, list[str]] = {}
    if cedict and unbridged:
        table = lexicon.english_to_chinese()
        lemmas = [lexicon.lemma(words[j]) for j in content]
        for a, b, key in lexicon.phrases(lemmas, table):
            if b - a < 2 or any(content[j] in reached for j in range(a, b)):
                continue  # one English word has too many senses to say what the corpus lacks
            cands = [t for t in table[key] if len(t) > 1]
            if cands:
                misses[" ".join(words[j] for j in content[a:b])] = cands
    anchored = any(t in vocab and len(t) > 1 for t in weights)
    n_content = len(content) + sum(used)
    en_cov = (len(reached) / n_content) if n_content else 0.0
    zh = zh_share(q)
    covered = zh + (1 - zh) * en_cov if latin else (1.0 if zh else 0.0)
    years = sorted(set(_YEAR.findall(q)))
    return QueryTerms(q, weights, names, places, years, covered, english, unbridged, anchored, misses)


def _present(terms: list[str], vocab: dict) -> list[str]:
    out = []
    for t in terms:
        if t in vocab and t not in out:
            out.append(t)
    return out
