"""Hybrid retrieval, the cross-lingual bridge and the evaluation command, on real parts."""

from __future__ import annotations

import json

import pytest

from qa.index.bm25 import pinyin_bridge
from qa.text.tokens import bigrams
from tests.conftest import build_index

TOWNS = {
    "a.txt": "夹竹镇社会工作站建设情况\n近日，夹竹镇民政办部署社会工作站建设，到2025年底全镇培养持证社会工作者42名。\n（据夹竹镇民政办）\n",
    "b.txt": "柳湾乡养老服务情况\n柳湾乡新建老年食堂6个，服务老年人1200人次。\n（据柳湾乡政府）\n",
    "c.txt": "石门县儿童福利工作\n石门县为困难儿童发放助学金，共资助学生350名。\n（据石门县民政局）\n",
}


def test_pinyin_bridge_is_derived_from_the_corpus_terms():
    bridge = pinyin_bridge(["酒泉市", "温州", "乔恒", "社会工作", "a1"])
    assert "酒泉市" in bridge["jiuquan"] and "温州" in bridge["wenzhou"] and "乔恒" in bridge["qiaoheng"]


@pytest.fixture(scope="module")
def towns(tmp_path_factory, embedder):
    """The index of a corpus of three made-up town bulletins this test file writes itself."""
    base = tmp_path_factory.mktemp("towns")
    corpus = base / "c"
    corpus.mkdir()
    for name, text in TOWNS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build_index(corpus, base / "i", embedder)
    return base / "i"


def test_bridge_finds_a_made_up_town_by_its_pinyin(towns):
    from qa import search

    index = towns

    for query, source in (("Jiazhu: how many certified social workers?", "a.txt"),
                          ("Liuwan elderly canteens", "b.txt"), ("Shimen scholarships", "c.txt")):
        lex = search(query, k=1, mode="lexical", index=index)
        assert lex and lex[0].source == source, (query, [p.source for p in lex])
        assert search(query, k=1, index=index)[0].source == source


def test_hybrid_modes_and_source_filter(seed_index):
    from qa import search

    _, index = seed_index
    q = "温州乡镇社工站开展了多少个社会工作服务项目"
    for mode in ("dense", "lexical", "hybrid"):
        hits = search(q, k=5, mode=mode, index=index)
        assert 1 <= len(hits) <= 5 and all(h.ranks for h in hits)
    only = search(q, k=5, index=index, sources=["003_41b0a890d9bd57ab.txt"])
    assert only and all(h.source == "003_41b0a890d9bd57ab.txt" for h in only)
    with pytest.raises(ValueError, match="mode"):
        search(q, mode="magic", index=index)


def test_bigrams_cut_chinese_runs_and_keep_latin_words_whole():
    assert bigrams("枫丹白露法令 of 1685年") == ["枫丹", "丹白", "白露", "露法", "法令", "1685", "年"]
    assert bigrams("，县。") == ["县"] and bigrams("THE Social-Work") == ["social", "work"]


def test_bigram_list_counts_by_the_questions_chinese_share(seed_index, index_of):
    from qa import search

    _, index = seed_index
    zh = search("温州 孵化 志愿服务组织 多少个", k=3, index=index)
    assert any("bigram" in h.ranks for h in zh)
    assert not any("bigram" in h.ranks for h in search("Wenzhou volunteer organisations", k=3, index=index))
    left_out = search("温州 孵化 志愿服务组织 多少个", k=3, index=index, without=frozenset({"bigram"}))
    assert not any("bigram" in h.ranks for h in left_out)
    live = index_of(index).store
    assert live.bigram is not None and (live.path / "bigram" / "params.index.json").exists()


def test_asked_list_ranks_only_passages_holding_the_figure_asked_for(seed_index):
    from qa import search
    from qa.retrieve.highlight import COUNT, figure_kinds

    _, index = seed_index
    hits = search("温州 孵化 志愿服务组织 多少个", k=5, index=index)
    asked = [h for h in hits if "asked" in h.ranks]
    assert asked and all(COUNT in figure_kinds(h.text) for h in asked)
    assert not any("asked" in h.ranks for h in search("温州 孵化 志愿服务组织", k=5, index=index))


def test_highlight_marks_the_answering_sentence(seed_index):
    from qa import search

    _, index = seed_index
    p = search("温州 孵化 志愿服务组织 多少个", k=1, index=index)[0]
    s, e = p.highlight
    assert 0 <= s < e <= len(p.text)
    assert "308" in p.text[s:e]


@pytest.mark.slow
def test_eval_command_prints_every_mode_and_writes_json(seed_index, tmp_path):
    from tests.conftest import DEV, run_cli

    corpus, index = seed_index
    out = tmp_path / "eval.json"
    r = run_cli("eval", str(DEV), "--index", str(index), "--corpus", str(corpus), "--json", str(out))
    assert r.returncode == 0, r.stderr
    for mode in ("dense", "lexical", "hybrid", "naive"):
        assert f"| {mode} |" in r.stdout
    figures = json.loads(out.read_text())["dev"]["modes"]
    assert figures["hybrid"]["hit@5"] >= figures["dense"]["hit@5"]
    assert figures["hybrid"]["hit@1"] > figures["naive"]["hit@1"]


def test_english_words_map_to_corpus_terms_without_names(towns):
    """No romanised name in the query: the lexical side still sees it through the second
    model's nearest corpus terms."""
    from qa import search

    hit = search("How many students received scholarships?", k=1, mode="lexical", index=towns)
    assert hit and hit[0].source == "c.txt"


def test_a_named_person_is_a_list_of_the_fusion_not_a_re_sort(tmp_path, embedder):
    """Semantic similarity alone prefers the bulletin that 'proposes' the most; the query names
    a person (乔恒, reached through the pinyin of the corpus's names), and the passages naming
    that person form one more rank list inside the fusion, with the weight measured on the dev
    sets (qa/retrieve/lists.py), instead of overriding the fused order afterwards (the re-sort that this
    replaced fired on ordinary words whose pinyin spells a corpus term: Women -> 我们)."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "speech.txt").write_text(
        "吉林省社会工作座谈会召开\n座谈会上，乔恒指出，要扩大社会工作者队伍，保障专职社工待遇。\n（据吉林民政）\n",
        encoding="utf-8")
    (corpus / "plan.txt").write_text(
        "湖北提出社会工作发展建议\n《规划》提出，建议推进社会工作服务站建设，提出加强社会工作人才培养的建议。\n（据湖北民政）\n",
        encoding="utf-8")
    index = tmp_path / "i"
    build_index(corpus, index, embedder)
    from qa import search
    from qa.retrieve import lists as rank

    hits = search("What did Qiao Heng propose for social work?", k=2, index=index)
    by_source = {h.source: h for h in hits}
    assert by_source["speech.txt"].ranks.get("names") == 1 and "names" not in by_source["plan.txt"].ranks
    # the fused order is exactly the weighted fusion of the lists: nothing re-sorts it
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] <= 1.0
    assert rank.DEFAULT.weights["names"] > 0
    hits = search("What did Qiao Heng propose for social work?", k=2, index=index, without=frozenset({"names"}))
    assert all("names" not in h.ranks for h in hits)


def test_ensemble_index_adds_the_second_model_lists_and_later_builds_keep_it(tmp_path, embedder):
    from qa import search
    from qa.index.folder import StoredIndex

    corpus, index = tmp_path / "c", tmp_path / "i"
    corpus.mkdir()
    for name, text in TOWNS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build_index(corpus, index, embedder)
    store = StoredIndex.load(index)
    assert store.use_vectors is None and store.terms  # default: e5, BM25 and the word bridge
    assert not any("use" in h.ranks for h in search("Shimen scholarships", k=3, index=index))

    build_index(corpus, index, embedder, ensemble=True)
    store = StoredIndex.load(index)
    assert store.use_vectors.shape == (len(store.passages), 512) and store.manifest["settings"]["ensemble"]
    assert store.sent_vectors.shape[0] == int(store.sent_spans[:, 1].sum()) >= len(store.passages)
    hits = search("Shimen scholarships", k=3, index=index)
    assert hits[0].source == "c.txt" and any({"use", "sentence"} <= set(h.ranks) for h in hits)

    (corpus / "d.txt").write_text("青柏镇社区食堂\n青柏镇开办社区食堂3家。\n（据青柏镇政府）\n", encoding="utf-8")
    build_index(corpus, index, embedder)  # not told: keeps the ensemble
    store = StoredIndex.load(index)
    assert store.use_vectors is not None and store.use_vectors.shape[0] == len(store.passages)

    build_index(corpus, index, embedder, ensemble=False)
    store = StoredIndex.load(index)
    assert store.use_vectors is None and not (store.path / "use.npy").exists()
    assert all("sent" not in p for p in store.passages)


def test_english_word_vectors_come_from_the_table_or_the_model(settings):
    import numpy as np

    from qa.app.api import Index

    use = Index.second_model(settings)  # the process's one, its word table in the settings' cache folder
    table, index = use.word_table()
    assert len(index) > 40000 and "scholarships" in index and "qxzvword" not in index
    words = ["scholarships", "canteen", "qxzvword"]
    got = use.embed_words(words)
    direct = use.embed_queries(words)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cos = np.sum(got * direct, axis=1)
    assert cos[0] > 0.999 and cos[1] > 0.999 and cos[2] > 0.99999  # float16 table rows; the unknown word exact


def test_eval_ablation_of_a_set_with_its_own_corpus_needs_no_default_index(tmp_path, embedder, settings):
    """A question set with a corpus/ folder beside it is asked against that corpus's own index;
    ``--ablation`` reads which parts that index has, not the default index (there is none here:
    conftest points BULLETIN_QA_INDEX at an empty tmp folder)."""
    import shutil

    from qa.app.eval import eval_index_path
    from tests.conftest import run_cli

    corpus = tmp_path / "set" / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("张掖市社会工作\n到2025年，张掖市持证社会工作者达到120名以上。\n", encoding="utf-8")
    (corpus / "b.txt").write_text("温州志愿服务\n温州市共孵化志愿服务组织308个。\n", encoding="utf-8")
    questions = tmp_path / "set" / "questions.jsonl"
    questions.write_text(json.dumps({"q": "张掖持证社会工作者目标", "keys": ["120"]}, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    try:
        r = run_cli("eval", str(questions), "--ablation")
    finally:
        shutil.rmtree(eval_index_path(corpus.resolve(), settings), ignore_errors=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "| set/questions | hybrid |" in r.stdout and "| set/questions | hybrid-no-cedict |" in r.stdout, r.stdout
