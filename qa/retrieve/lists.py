"""The ranked lists of a search, declared once each: :data:`LISTS`.  Part of the retrieve stage.

Each :class:`RankedList` says what makes it (``make``: a function of the :class:`Search`), when
it runs (``runs``, and ``when`` in words), its fusion weight and what scales that weight for a
question, its normalisation, and in one line which questions it serves.  The retriever runs the
candidate lists over the index (or the filtered rows), then the rescoring lists over their
candidates, and fuses them with :func:`fusion_for` (``qa/retrieve/fusion.py``: min-max
normalisation, then a weighted sum; not reciprocal rank fusion).  ``bulletin-qa eval
--ablation`` leaves each out by its name; the bridges (:data:`BRIDGES`), which feed the lexical
lists rather than rank anything, are left out the same way.  docs/ranking.md's table is
:func:`lists_markdown` (tests/test_rank.py checks it).

The weights were fitted on the dev sets (../shared/eval/dev.jsonl, benchmarks/extra_questions.jsonl
and both languages of ../shared/eval/xquad-dev), the rank lists of every question captured once
and fused offline for each setting of a grid (lexical 0/0.25/0.5, bigram 0/0.5/0.75/1/1.5,
e5_sentence 1/1.5/2, sentence_terms 0.25/0.5/0.75, names 0.5/1; dense fixed at 1), scored by
the mean hit@1 of the four sets; the optimum is flat (the next five settings lie within 0.003).
"asked" was fitted on the same captured lists afterwards (0 / 0.25 / 0.5 / 0.75 / 1): 0.5 is at or
above 0 on every set.  Min-max fusion beat RRF at every setting tried (xquad English hit@1 0.84
against 0.81, Chinese 0.94 against 0.93).  The ensemble lists ("use", "sentence") were not
refitted: an ensemble index is opt-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from qa.retrieve.fusion import Fusion, lexical_share
from qa.retrieve.highlight import asked_kinds, figure_kinds

LEXICAL_FLOOR = 0.2  # the lexical lists' share of their weight when no word of the question reached a corpus term


@dataclass
class Search:
    """What the lists of one search read: the retriever (its models and list functions), the
    store, the question (``q``, its ``terms``, its Chinese share ``zh``), the mode, the pool size,
    the filtered ``rows``, the parts left out, the query vectors once computed (``qvec`` e5,
    ``uq`` second model) and the ``candidates`` the rescoring lists score."""

    retriever: object
    store: object
    q: str
    terms: object
    mode: str
    pool: int
    rows: object = None
    without: frozenset = frozenset()
    zh: float = 0.0
    qvec: object = None
    uq: object = None
    candidates: list = field(default_factory=list)
    memo: dict = field(default_factory=dict)  # results shared by two lists (one pass, both lists)


def _sorted(scores: dict) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda t: (-t[1], t[0]))


def _dense(s: Search):
    return s.retriever.dense(s.store, s.qvec, s.pool, s.rows)


def _lexical(s: Search):
    return s.retriever.lexical(s.store, s.terms.weights, s.pool, s.rows)


def _bigram(s: Search):
    return s.retriever.bigram(s.store, s.q, s.pool, s.rows)


def _use(s: Search):
    s.uq = s.retriever.second.embed_queries([s.q])[0]
    return s.store.dense(s.uq, s.pool, s.rows, second=True)


def _e5_sentence(s: Search):
    return _sorted(s.retriever.sentence_scores(s.store, s.qvec, s.candidates, e5=True))


def _sentence(s: Search):
    return _sorted(s.retriever.sentence_scores(s.store, s.uq, s.candidates))


def _term_pass(s: Search):
    """The sentence-term and "asked" lists come from one pass over the candidates' sentences."""
    if "terms" not in s.memo:
        kinds = asked_kinds(s.terms.text) if "asked" not in s.without else frozenset()
        every, holding = sentence_term_scores(s.store, term_weights(s.terms.weights, s.store.idf),
                                              s.candidates, holding=kinds)
        s.memo["terms"] = (_sorted(every), _sorted(holding))
    return s.memo["terms"]


def _names(s: Search):
    return _sorted(name_scores(s.store, s.terms.names, s.candidates))


def _asks_figure(s: Search) -> bool:
    return bool(asked_kinds(s.terms.text))


@dataclass(frozen=True)
class RankedList:
    """One ranked list: ``make(search)`` -> [(row, score)], best first, when ``runs(search)``."""

    name: str
    stage: str  # "candidates" (over the index) or "rescoring" (over the candidates)
    make: Callable[[Search], list]
    runs: Callable[[Search], bool]
    when: str
    weight: float
    scale: str  # what multiplies the weight for a question: "1", "lexical share", "Chinese share"
    serves: str
    timed_as: str = "rescoring (sentences, names)"  # the stage name the timing hook reports
    normalise: str = "min-max over the list"


LISTS = (
    RankedList("dense", "candidates", _dense, lambda s: s.mode in ("dense", "hybrid"), "dense and hybrid",
               1.0, "1", "paraphrases and English questions: meaning, not words", timed_as="dense search"),
    RankedList("lexical", "candidates", _lexical, lambda s: s.mode in ("lexical", "hybrid"), "lexical and hybrid",
               0.25, "lexical share", "questions using the bulletins' own words (BM25 over jieba tokens)",
               timed_as="lexical search (BM25)"),
    RankedList("bigram", "candidates", _bigram,
               lambda s: s.mode == "hybrid" and s.store.has_bigram and s.zh > 0, "hybrid, a Chinese question",
               1.0, "Chinese share", "Chinese words jieba cuts differently in question and passage",
               timed_as="bigram search (BM25)"),
    RankedList("use", "candidates", _use, lambda s: s.mode == "hybrid" and s.store.has_second,
               "hybrid, an ensemble index", 0.5, "1", "a second opinion on meaning (ensemble indexes only)",
               timed_as="second-model query embedding and search"),
    RankedList("e5_sentence", "rescoring", _e5_sentence, lambda s: s.qvec is not None, "hybrid",
               1.5, "1", "a passage one of whose sentences says what is asked, among others that do not"),
    RankedList("sentence", "rescoring", _sentence, lambda s: s.uq is not None, "hybrid, an ensemble index",
               0.5, "1", "the same by the second model (ensemble indexes only)"),
    RankedList("sentence_terms", "rescoring", lambda s: _term_pass(s)[0], lambda s: True, "hybrid",
               0.75, "lexical share", "questions whose words all stand in one sentence of the answer"),
    RankedList("asked", "rescoring", lambda s: _term_pass(s)[1], _asks_figure, "hybrid, the question asks "
               "for a figure", 0.5, "1", "how many / how much / what share: the sentence holding that kind of figure"),
    RankedList("names", "rescoring", _names, lambda s: bool(s.terms.names), "hybrid, the question names a "
               "place or person", 1.0, "1", "questions about one region or person among many"),
)
LIST_NAMES = tuple(x.name for x in LISTS)


@dataclass(frozen=True)
class Bridge:
    """A way English words reach the corpus's Chinese terms (qa/retrieve/query.py): it feeds the
    lexical lists and the verdict, not a list of its own."""

    name: str
    serves: str


BRIDGES = (
    Bridge("cedict", "English words and phrases through CC-CEDICT (allowance -> 津贴)"),
    Bridge("pinyin", "English questions naming Chinese places and people in pinyin (Jiuquan -> 酒泉)"),
    Bridge("words", "English words CC-CEDICT does not reach, through the second model's nearest corpus terms"),
)
PARTS = {x.name: f"list: {x.serves}" for x in LISTS if x.name not in ("dense", "lexical", "use", "sentence")} | {
    "second": "the second model's passage and sentence lists (ensemble indexes only)"} | {
    b.name: f"bridge: {b.serves}" for b in BRIDGES}


def run_lists(s: Search, stage: str, timer) -> dict[str, list]:
    """The lists of ``stage`` that run for this search and are not left out (``timer(name)``: a
    context manager timing one)."""
    out: dict[str, list] = {}
    for x in LISTS:
        if x.stage != stage or x.name in s.without or not x.runs(s):
            continue
        if x.name in ("use", "sentence") and "second" in s.without:
            continue
        with timer(x.timed_as):
            hits = x.make(s)
        if hits:
            out[x.name] = hits
    return out


def fusion_for(s: Search, base: Fusion, floor: float = LEXICAL_FLOOR) -> Fusion:
    """The fusion's weights for this search: ``base``'s, each scaled as its list declares (the
    lexical lists by the share of the question the lexical side sees, the bigram list by its
    Chinese share).  A single-mode search fuses its one list."""
    if s.mode != "hybrid":
        return Fusion({s.mode: 1.0}, k=base.k, method=base.method)
    factor = {"1": 1.0, "lexical share": lexical_share(s.terms.covered, floor), "Chinese share": s.zh}
    return base.with_weights(**{x.name: base.weights.get(x.name, 0.0) * factor[x.scale] for x in LISTS})


DEFAULT = Fusion(weights={x.name: x.weight for x in LISTS})


def lists_markdown() -> str:
    """The lists as docs/ranking.md shows them (tests/test_rank.py checks the file holds this)."""
    lines = ["| list | over | runs when | weight | scaled by | normalised | serves |", "|---|---|---|---|---|---|---|"]
    lines += [f"| `{x.name}` | {'the index' if x.stage == 'candidates' else 'the candidates'} | {x.when} | "
              f"{x.weight:g} | {x.scale} | {x.normalise} | {x.serves} |" for x in LISTS]
    lines += ["", "| bridge | serves |", "|---|---|"] + [f"| `{b.name}` | {b.serves} |" for b in BRIDGES]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the term lists' arithmetic

def term_weights(weights: dict[str, float], idf) -> dict[str, float]:
    """The query terms worth matching inside a sentence (words, not single characters, and
    numbers), each weighted by its query weight times its IDF (floor 0.5)."""
    return {t: w * max(idf(t), 0.5) for t, w in weights.items() if len(t) > 1 or t.isdigit()}


def sentence_term_scores(store, weights: dict[str, float], rows: list[int],
                         holding: frozenset = frozenset()) -> tuple[dict[int, float], dict[int, float]]:
    """Each candidate scored by its best sentence's share of the (IDF-weighted) query terms
    (``term_weights``): the passage whose single sentence holds the question's words is the
    likelier answer.  Returns that, and with ``holding`` (kinds of figure, qa/retrieve/highlight.py) the
    same over only the sentences holding one of them (the question asks "how many", and a
    sentence with its words but no count does not answer it); both in one pass."""
    total = sum(weights.values())
    every: dict[int, float] = {}
    held: dict[int, float] = {}
    if not total:
        return every, held
    items = list(weights.items())
    view = store.sentence_view
    for i in rows:
        _, sents, whole = view(i)
        present = [(t, w) for t, w in items if t in whole]  # most terms miss most passages
        if not present:
            continue
        best = best_held = 0.0
        for sent in sents:
            score = sum(w for t, w in present if t in sent)
            if score > best:
                best = score
            if holding and score > best_held and holding & figure_kinds(sent):
                best_held = score
        if best:
            every[i] = best / total
        if best_held:
            held[i] = best_held / total
    return every, held


def name_scores(store, names: list[str], rows: list[int]) -> dict[int, float]:
    """The candidates whose text or article title names the question's places and people, by
    how many of them they name (a passage of an article about 酒泉 carries the title)."""
    out: dict[int, float] = {}
    for i in rows:
        text = store.passages[i]["embed_text"]
        n = sum(1 for t in names if t in text)
        if n:
            out[i] = float(n)
    return out
