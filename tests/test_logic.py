"""The pipeline's logic on a corpus these tests write themselves, with the fake embedder
(tests/fake_embedder.py) and no second model: building, incremental rebuilds, filters,
the verdict's place check, the answering sentence, the citation.  No model is loaded here;
the real-model paths are tested in test_core, test_retrieval and the page tests."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from qa.app.api import Index
from qa.retrieve.retriever import Retriever
from tests.conftest import build_index
from tests.fake_embedder import FakeEmbedder

BULLETINS = {
    "zhangye.txt": """甘州区加强社会工作人才队伍建设
2024年3月5日，甘肃省张掖市甘州区民政局印发方案，部署社会工作人才队伍建设。
方案提出，到2025年，全区持证社会工作者达到120名以上。
方案还要求每个乡镇建成一个社会工作服务站，配备专职社会工作者。
（据甘州区民政局）
""",
    "wenzhou.txt": """温州培育志愿服务组织
2023年6月，浙江省温州市民政局发布志愿服务工作情况。
全市共孵化志愿服务组织308个，注册志愿者人数持续增长。
温州市还开展了志愿服务项目大赛，评选优秀项目。
（据温州市民政局）
""",
    "theory.txt": """社会工作的专业方法
个案工作、小组工作和社区工作是社会工作的三大专业方法。
督导制度帮助社会工作者在实务中成长，提升服务质量。
""",
}


def write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def fake():
    return FakeEmbedder()


@contextmanager
def indexed(folder, fake, files: dict[str, str]):
    """(corpus, index, search): ``files`` indexed with the fake embedder under ``folder``, and
    a search through a qa.Index whose queries the fake embeds (no model, no word bridge)."""
    corpus, index = folder / "corpus", folder / "index"
    write(corpus, files)
    build_index(corpus, index, fake, second=None)
    with Index(index, corpus=corpus, embedder=fake, word_bridge=False) as idx:
        yield corpus, index, idx.search  # search.__self__: the Index


@pytest.fixture
def small(tmp_path, fake):
    """The three bulletins, indexed (``indexed``)."""
    with indexed(tmp_path, fake, BULLETINS) as made:
        yield made


def test_the_passage_with_the_asked_figure_comes_first_with_its_citation(small):
    *_, search = small
    r = search("甘州区 持证社会工作者 达到多少名", k=3)
    top = r[0]
    assert top.source == "zhangye.txt" and "120" in top.text
    s, e = top.highlight
    assert "120" in top.text[s:e]  # the sentence holding the figure is the one marked
    assert top.title == "甘州区加强社会工作人才队伍建设"
    assert top.start_line >= 1 and top.end_line >= top.start_line
    assert "zhangye.txt" in top.citation and r.answered


def test_scores_fall_with_rank_and_first_is_at_most_one(small):
    *_, search = small
    r = search("社会工作者", k=5)
    scores = [p.score for p in r]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1.0


def test_metadata_region_date_issuer_are_extracted(small):
    *_, search = small
    p = search("孵化志愿服务组织", k=1)[0]
    assert p.source == "wenzhou.txt"
    assert "温州" in p.region and p.date == "2023-06" and p.issuer.endswith("温州市民政局")


@pytest.mark.parametrize("kw, allowed", [
    (dict(regions=["甘肃"]), {"zhangye.txt"}),
    (dict(regions=["浙江"]), {"wenzhou.txt"}),
    (dict(since="2024-01-01"), {"zhangye.txt"}),
    (dict(until="2023-12"), {"wenzhou.txt"}),
    (dict(sources=["theory.txt"]), {"theory.txt"}),
])
def test_filters_narrow_the_results(small, kw, allowed):
    *_, search = small
    r = search("社会工作", k=10, **kw)
    assert r and {p.source for p in r} <= allowed


def test_a_place_no_bulletin_mentions_is_not_answered_and_named(small):
    *_, search = small
    r = search("苏州 持证社会工作者 目标", k=3)
    assert not r.answered and "苏州" in r.reason
    assert len(r) > 0  # the nearest passages are still returned, as "not an answer"


@pytest.mark.parametrize("question, place", [
    ("Inner Mongolia certified social workers target", "内蒙古"),  # a name of English words
    ("How many certified social workers does Hong Kong have?", "香港"),  # "hong", "kong": common words to wordfreq
    ("Shaanxi certified social workers target", "陕西"),  # not 山西, whose pinyin is the same
    ("Amoy certified social workers", "厦门"),  # an old name
])
def test_english_names_of_places_that_are_not_pinyin_are_not_answered(small, question, place):
    *_, search = small
    r = search(question, k=3)
    assert not r.answered and place in r.reason, r.reason


def test_a_word_that_is_only_a_county_name_is_no_place():
    """CC-CEDICT's English names of counties count as places only with "County" after them, as
    their pinyin does: "jingle" (静乐县) in an English question is a jingle."""
    from qa.text.lexicon import name_heads
    from qa.retrieve.query import understand

    assert understand("Where is the ABC four-note jingle still in use?", {}, None).places == []
    assert [p.name for m in understand("Jingle County social work", {}, None).places for p in m.places] == ["静乐县"]
    assert name_heads("Shaanxi Province (Shensi) in northwest China, abbr. 陝|陕[Shan3]") == ["shaanxi"]
    assert name_heads("Xiamen or Amoy, subprovincial city in Fujian") == ["xiamen", "amoy"]
    assert name_heads("Ürümqi or Urumqi, prefecture-level city") == ["urumqi"]
    assert name_heads("peace") == []  # a gloss that is no capitalised name


def test_words_the_bulletins_never_use_are_not_answered(small):
    *_, search = small
    for q in ("asdfghjkl qwerty", "1234567"):
        r = search(q, k=3)
        assert not r.answered and r.reason


def test_incremental_rebuild_embeds_only_the_new_file_and_forgets_a_deleted_one(small, fake):
    corpus, index, search = small
    before = fake.calls
    write(corpus, {"jiajiang.txt": "夹江县开发社工岗位\n四川省乐山市夹江县多元化开发社工岗位200余个。\n"})
    report = build_index(corpus, index, fake, second=None)
    assert report.embedded_files == ["jiajiang.txt"]
    assert 0 < fake.calls - before <= 4  # its passage and sentences; nothing of the other three
    assert search("夹江县 社工岗位", k=1)[0].source == "jiajiang.txt"  # the retriever saw the new version
    (corpus / "wenzhou.txt").unlink()
    report = build_index(corpus, index, fake, second=None)
    assert report.removed_files == ["wenzhou.txt"]
    assert all(p.source != "wenzhou.txt" for p in search("孵化志愿服务组织", k=10))


def test_an_unchanged_corpus_rebuilds_without_embedding(small, fake):
    corpus, index, _ = small
    before = fake.calls
    report = build_index(corpus, index, fake, second=None)
    assert fake.calls == before and report.embedded_files == []


def test_the_search_reports_its_stages_to_the_timing_hook(small, fake):
    _, index, _ = small
    r = Retriever(index, embedder=fake, word_bridge=False)
    seen: dict[str, float] = {}
    r.on_stage = lambda name, seconds: seen.__setitem__(name, seen.get(name, 0.0) + seconds)
    r.search("温州 孵化 志愿服务组织 多少个", k=3)
    assert {"e5 query embedding", "dense search", "lexical search (BM25)", "bigram search (BM25)",
            "rescoring (sentences, names)", "fusion", "annotation (highlight, similarity)"} <= set(seen)
    assert all(s >= 0 for s in seen.values())
    seen.clear()
    r.search("温州", k=3, mode="lexical")
    assert "dense search" not in seen and "lexical search (BM25)" in seen


def test_eval_counts_whether_the_highlighted_sentence_holds_the_key(small):
    """sentence@1: of the questions whose first passage holds a key, the share whose highlighted
    sentence holds it too (a passage can hold the fact while the page marks another sentence)."""
    from qa.app.eval import evaluate, sentence_holds

    _corpus, _index, search = small
    questions = [{"id": "a", "q": "甘州区 持证社会工作者 达到多少名", "keys": ["120名"]},
                 {"id": "b", "q": "温州 孵化 志愿服务组织 多少个", "keys": ["308个"]}]
    figs = evaluate(questions, ["hybrid"], k=3, index=search.__self__)
    assert figs["modes"]["hybrid"]["hit@1"] == 1.0
    assert figs["modes"]["hybrid"]["sentence@1"] == 1.0 and figs["sentence_misses"]["hybrid"] == []
    assert figs["modes"]["hybrid"]["answer@1"] == 1.0 and figs["answer_misses"]["hybrid"] == []
    # answer@1 counts every answerable question: one whose passages miss the fact counts against it
    questions.append({"id": "c", "q": "温州 孵化 志愿服务组织 多少个", "keys": ["3000个"]})
    figs = evaluate(questions, ["hybrid"], k=3, index=search.__self__)
    assert figs["modes"]["hybrid"]["sentence@1"] == 1.0 and figs["modes"]["hybrid"]["answer@1"] == 2 / 3
    assert [m["id"] for m in figs["answer_misses"]["hybrid"]] == ["c"]
    q = {"keys": ["120名"]}
    assert sentence_holds(q, "全区持证社会工作者达到 120名以上。")  # compared without spaces
    assert not sentence_holds(q, "方案还要求每个乡镇建成一个社会工作服务站。") and not sentence_holds(q, None)
    assert not sentence_holds({"keys": ["120名", "乡镇"], "mode": "all"}, "达到120名以上。")


def test_weights_hash_is_remembered_by_the_file_stat_and_redone_when_it_changes(tmp_path):
    import os

    from qa.files import file_sha256, weights_sha256

    cache = tmp_path / "cache"
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\x00" * 3_000_000)
    first = weights_sha256(weights, cache)
    assert first == file_sha256(weights)
    [memo] = (cache / "hashes").iterdir()
    memo.write_text("f" * 64)  # what is remembered is what a second process gets, unread
    assert weights_sha256(weights, cache) == "f" * 64
    weights.write_bytes(b"\x01" * 3_000_000)  # same size, new contents and time
    os.utime(weights, ns=(1, 2))
    assert weights_sha256(weights, cache) == file_sha256(weights) != first
    for m in (cache / "hashes").iterdir():
        m.write_text("not a hash")  # a damaged memo is hashed again
    assert weights_sha256(weights, cache) == file_sha256(weights)


def test_place_finding_tries_only_the_lengths_of_names_that_begin_there():
    """Places.find skips the lengths no name starting with that character has: the same matches
    as trying every length, on text with nested and adjacent names."""
    from qa.text import lexicon

    p = lexicon.places()
    texts = ["甘肃省酒泉市新增社工300名", "湖北省恩施土家族苗族自治州咸丰县", "广西壮族自治区南宁市和宣城市", "no place here", "",
             "内蒙古自治区呼和浩特市赛罕区，新疆维吾尔自治区喀什地区"]
    for t in texts:
        every = lexicon.longest_matches(len(t), p.longest, 2, lambda a, b: p.by_name.get(t[a:b]))
        assert p.find(t) == every, t
    first = texts[0]
    assert [first[a:b] for a, b, _ in p.find(first)] == ["甘肃省", "酒泉市"]


@pytest.mark.parametrize("text, expected", [
    ("The plan was set in 2019. The target is 300 workers. Funding rose 5%. Done",
     ["The plan was set in 2019.", " The target is 300 workers.", " Funding rose 5%.", " Done"]),
    ("Debates were led by J.A. Hobson and others. Later ones", ["Debates were led by J.A. Hobson and others.", " Later ones"]),
    ("Growth was 3.5 per cent, see www.gov.cn. 完", ["Growth was 3.5 per cent, see www.gov.cn. 完"]),
    ("No. 5 Road is here", ["No. 5 Road is here"]),
    ('(See the annex.) He said "yes." Then', ["(See the annex.)", ' He said "yes."', " Then"]),
    ("第一句。第二句！ third one", ["第一句。", "第二句！", " third one"]),
])
def test_english_full_stops_end_sentences_but_not_initials_decimals_or_addresses(text, expected):
    from qa.text.sentences import sentences

    assert [text[a:b] for a, b in sentences(text)] == expected


def test_an_english_bulletin_highlights_the_sentence_not_the_whole_line(tmp_path, fake):
    bulletin = {"county.txt": "County social work plan\n"
                "The county issued its plan in March 2024. The plan sets the goal of 120 certified social "
                "workers by 2025. Each township is to build one service station.\n"}
    with indexed(tmp_path, fake, bulletin) as (_corpus, _index, search):
        top = search("certified social workers goal 2025", k=1)[0]
    s, e = top.highlight
    assert top.text[s:e].strip() == "The plan sets the goal of 120 certified social workers by 2025."
