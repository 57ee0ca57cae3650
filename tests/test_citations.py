"""Citations that can go into a report, and the verdict that travels with the answer (issue 28).

The reference formatter (qa.retrieve.results.reference) on its own; then a made-up issue of a
bulletin with a masthead, indexed by the real model, cited through qa.search, the installed
command and the served page; then an unanswered question through qa.search, the command line,
the /search endpoint and the CSV / Markdown exports: each says "not answered" and why."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from qa.retrieve.results import Passage, Results, reference
from tests.conftest import build_index, cli_cmd, serve_seed_copy

UNANSWERED = "苏州社工站建设数量"  # no bulletin names 苏州

ISSUE = """中国社会工作
2021年11月15日 星期一 第32期

喀什启动社区社工站项目

3月5日，喀什市民政局印发通知，启动社区社工站“暖心驿站”项目，到2026年底前全市建成126个社区社工站。
（据喀什市民政局）

银川推进社工站建设

日前，自治区民政厅印发方案，推进乡镇（街道）社工站建设。银川市全市建成社工站58个。
（来源：银川市民政局）
"""


def _passage(**fields) -> Passage:
    base = dict(text="……", source="page.pdf", title="喀什启动社区社工站项目", start_line=6, end_line=7, score=0.9)
    return Passage(**(base | fields))


# --------------------------------------------------------------------------- the formatter


def test_reference_names_article_issuer_date_publication_issue_file_and_lines():
    p = _passage(doc_title="中国社会工作", issue="第32期", issue_date="2021-11-15", date="2021-03-05",
                 issuer="喀什市民政局", page_start=2, page_end=3)
    assert reference(p, "zh") == ("喀什启动社区社工站项目，喀什市民政局，2021-03-05，载《中国社会工作》第32期（2021-11-15）"
                                  "（page.pdf，第2-3页，第6–7行）")
    assert reference(p, "en") == p.citation == (
        "喀什启动社区社工站项目, 喀什市民政局, 2021-03-05, in 《中国社会工作》 第32期 (2021-11-15) "
        "(page.pdf, p. 2-3, lines 6-7)")


def test_reference_leaves_out_what_is_unknown_and_says_a_date_once():
    bare = _passage(source="a.txt")
    assert reference(bare, "zh") == "喀什启动社区社工站项目（a.txt，第6–7行）"
    assert reference(bare, "en") == "喀什启动社区社工站项目 (a.txt, lines 6-7)"
    assert "《" not in reference(bare, "zh") and "a.txt" in reference(bare, "zh")
    same_day = _passage(doc_title="民政简报", issue_date="2024-03-05", date="2024-03-05")
    assert reference(same_day, "zh").count("2024-03-05") == 1
    untitled = _passage(title="")
    assert reference(untitled, "en") == "page.pdf, lines 6-7"


def test_results_carry_the_verdict_in_both_languages():
    from qa.messages import Msg

    r = Results([_passage()])
    r.answered, r.reason = False, Msg("verdict.absent", "no bulletin mentions {what}", "没有哪份简报提到 {what}", what="苏州")
    assert r.verdict("en") == "not answered: no bulletin mentions 苏州"
    assert r.verdict("zh") == "未回答：没有哪份简报提到 苏州"
    d = r.to_dict()
    assert (d["answered"], d["reason"], d["reason_code"]) == (False, "no bulletin mentions 苏州", "verdict.absent")
    assert d["passages"][0]["citation"] == r[0].citation
    r.answered, r.reason = True, ""
    assert r.verdict("en") == "answered" and r.verdict("zh") == "已回答"


# --------------------------------------------------------------------------- an issue with a masthead


@pytest.fixture(scope="module")
def issue_index(tmp_path_factory, embedder):
    base = tmp_path_factory.mktemp("issue")
    (base / "corpus").mkdir()
    (base / "corpus" / "page.txt").write_text(ISSUE, encoding="utf-8")
    build_index(base / "corpus", base / "index", embedder)
    return base / "corpus", base / "index"


@pytest.mark.slow
def test_an_issue_is_cited_by_its_publication_and_each_article_by_its_own_date_and_issuer(issue_index):
    import qa

    _corpus, index = issue_index
    hits = qa.search("喀什 社区社工站 建成多少个", k=2, index=index)
    kashi = next(p for p in hits if "126" in p.text)
    assert (kashi.doc_title, kashi.issue, kashi.issue_date) == ("中国社会工作", "第32期", "2021-11-15")
    assert (kashi.title, kashi.date, kashi.issuer) == ("喀什启动社区社工站项目", "2021-03-05", "喀什市民政局")
    assert "《中国社会工作》" in kashi.citation and "第32期" in kashi.citation
    yinchuan = next(p for p in qa.search("银川 社工站 建成多少个", k=2, index=index) if "58" in p.text)
    # 日前 in an issue of 2021-11-15; credited 银川市民政局, though the text names 自治区民政厅 first
    assert (yinchuan.title, yinchuan.date, yinchuan.issuer) == ("银川推进社工站建设", "2021-11-15", "银川市民政局")
    assert all("中国社会工作" not in p.title for p in hits)  # no masthead line in an article's headline


@pytest.mark.slow
def test_the_command_cites_the_issue_and_says_answered(issue_index):
    """The installed command, in a process of its own: text and --json."""
    _corpus, index = issue_index
    r = subprocess.run(cli_cmd("search", "喀什 社区社工站 建成多少个", "-k", "1", "--index", str(index)),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    assert lines[0] == "answered"
    assert any("《中国社会工作》 第32期 (2021-11-15)" in ln and "喀什市民政局" in ln for ln in lines)
    r = subprocess.run(cli_cmd("search", "喀什 社区社工站 建成多少个", "-k", "1", "--json", "--index", str(index)),
                       capture_output=True, text=True, timeout=300)
    out = json.loads(r.stdout)
    assert out["answered"] is True and out["reason"] == ""
    assert {k: out["passages"][0][k] for k in ("doc_title", "issue", "issue_date", "date", "issuer")} == {
        "doc_title": "中国社会工作", "issue": "第32期", "issue_date": "2021-11-15", "date": "2021-03-05",
        "issuer": "喀什市民政局"}


# --------------------------------------------------------------------------- an unanswered question


@pytest.mark.slow
def test_an_unanswered_question_says_so_everywhere(seed_index, tmp_path):
    """qa.search, the command (text and --json) and both exports carry the verdict: every CSV row
    says "not answered" and why, and so does the Markdown, on each passage."""
    import qa
    from qa.app.web.export import export_files

    _corpus, index = seed_index
    hits = qa.search(UNANSWERED, k=3, index=index)
    assert hits and hits.answered is False and "苏州" in hits.reason
    r = subprocess.run(cli_cmd("search", UNANSWERED, "-k", "3", "--json", "--index", str(index)),
                       capture_output=True, text=True, timeout=300)
    out = json.loads(r.stdout)
    assert out["answered"] is False and out["reason"] == hits.reason and out["reason_code"] == getattr(hits.reason, "code", "")
    r = subprocess.run(cli_cmd("search", UNANSWERED, "-k", "3", "--index", str(index)),
                       capture_output=True, text=True, timeout=300)
    assert r.stdout.startswith(f"not answered: {hits.reason}")
    for lang, word in (("en", "not answered: "), ("zh", "未回答：")):
        c, m = export_files(UNANSWERED, hits, lang, tmp_path / lang)
        rows = list(csv.reader(open(c, encoding="utf-8-sig")))
        col = rows[0].index("verdict" if lang == "en" else "结论")
        assert len(rows) == 1 + len(hits)
        assert all(row[col].startswith(word) and "苏州" in row[col] for row in rows[1:])
        md = Path(m).read_text(encoding="utf-8").replace("\\", "")
        assert word.strip() in md and md.count("not an answer" if lang == "en" else "不是答案") == len(hits)
    answered = qa.search("甘肃酒泉 certified-worker goal", k=2, index=index)
    c, _m = export_files("甘肃酒泉 certified-worker goal", answered, "en", tmp_path / "ok")
    rows = list(csv.reader(open(c, encoding="utf-8-sig")))
    assert answered.answered and all(row[rows[0].index("verdict")] == "answered" for row in rows[1:])


@pytest.mark.slow
def test_the_search_endpoint_carries_the_verdict(tmp_path_factory, seed_index):
    """/search over the served page, through gradio_client: answered and the reason in every hit."""
    from gradio_client import Client

    demo, url, *_ = serve_seed_copy(tmp_path_factory, seed_index, "verdict")
    try:
        client = Client(url, verbose=False)
        hits = client.predict(UNANSWERED, 3, "hybrid", None, api_name="/search")
        assert hits and all(h["answered"] is False and "苏州" in h["reason"] and "reason_code" in h for h in hits)
        ok = client.predict("甘肃酒泉 certified-worker goal", 2, "hybrid", None, api_name="/search")
        assert ok and all(h["answered"] is True and h["reason"] == "" for h in ok)
        assert all(h["citation"].endswith(f"lines {h['start_line']}-{h['end_line']})") for h in ok)
    finally:
        demo.close()


def test_a_row_of_an_older_index_names_no_publication():
    """An index built before the masthead was read stored a lead headline (or the file name) as
    doc_title; its rows have no "issue" key, so the search names no publication from them until
    the next build re-chunks the files (METADATA_VERSION is part of the chunking settings)."""
    from types import SimpleNamespace

    from qa.app.api import passage_of
    from qa.ingest.chunk import chunk_settings
    from qa.ingest.metadata import METADATA_VERSION

    hit = SimpleNamespace(score=1.0, highlight=None, ranks={}, similarity=0.9)
    row = {"text": "……", "source": "003.txt", "title": "甘肃酒泉：多措并举", "start_line": 121, "end_line": 136,
           "doc_title": "湖北多措并举提升社会工作人才队伍建设水平", "region": "甘肃省酒泉市", "issuer": "酒泉市委社会工作部"}
    old = passage_of(row, hit, 1)
    assert old.doc_title == "" and "湖北多措并举" not in old.citation and old.issuer == "酒泉市委社会工作部"
    new = passage_of(row | {"doc_title": "社会工作", "issue": "第5期", "issue_date": "2021-11-15"}, hit, 1)
    assert (new.doc_title, new.issue, new.issue_date) == ("社会工作", "第5期", "2021-11-15")
    assert chunk_settings()["metadata"] == METADATA_VERSION >= 3


def test_the_documents_table_names_no_article_as_a_page_s_bulletin():
    import re

    from qa.app.web.documents import documents_html

    arts = [{"title": t, "region": "", "date": "", "start_line": 1, "end_line": 2} for t in ("湖北多措并举…", "甘肃酒泉…")]
    rows = [{"file": f, "title": "湖北多措并举…", "passages": 3, "size": 10, "added": "", "state": "indexed"}
            for f in ("page.txt", "masthead.txt", "one.txt")]
    info = {"page.txt": {"doc_title": "", "articles": arts, "regions": []},
            "masthead.txt": {"doc_title": "社会工作", "articles": arts, "regions": []},
            "one.txt": {"doc_title": "", "articles": arts[:1], "regions": []}}
    names = re.findall(r'<div class="qa-doc-title">([^<]*)</div>', documents_html(rows, info, "en", str))
    assert names == ["", "社会工作", "湖北多措并举…"]
