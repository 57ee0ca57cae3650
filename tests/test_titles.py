"""Article titles: every passage carries the headline of the article it belongs to, on page
layouts that print headlines before, after or beside their article, and no headline line
ends up as body text of another article.

Real behaviour on the five seed bulletins (read through qa.ingest.read and qa.ingest.chunk), with the
expectations derived from the files generally (a title names what its own article names
more than any other article does; no title is glued into another article's text), plus
small made-up documents, one per layout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.ingest.chunk import _names, articles, chunk_document, first_sentence
from qa.ingest.read import read_document

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "corpus").glob("*.txt"))


def _body(article) -> str:
    return "".join(b.text for b in article.text_blocks)


def _doc(tmp_path: Path, raw: str, name: str = "page.txt"):
    p = tmp_path / name
    p.write_text(raw, encoding="utf-8")
    return read_document(p)


def _titled(doc) -> list[tuple[str, str]]:
    return [(a.title, _body(a)) for a in articles(doc)]


@pytest.fixture(scope="module")
def seeds():
    return {p.name: read_document(p) for p in SEEDS}


# ----------------------------------------------------------------------------- seed files

def test_seed_corpus_is_there():
    assert len(SEEDS) == 5


def test_no_seed_passage_is_untitled_and_every_seed_article_has_a_headline(seeds):
    for name, doc in seeds.items():
        arts = articles(doc)
        assert arts, name
        for a in arts:
            # a headline, not the first-sentence fallback (every seed article has one)
            assert a.title and a.title != first_sentence(a), (name, a.title, _body(a)[:40])
        for c in chunk_document(doc):
            assert c.title.strip(), (name, c.start_line, c.text[:40])


def test_each_seed_title_names_what_its_own_article_names_most(seeds):
    """A title that names places, people or organisations names at least one that its own
    article mentions more often than any other article of the page does."""
    for name, doc in seeds.items():
        arts = articles(doc)
        bodies = [_body(a) for a in arts]
        for i, a in enumerate(arts):
            names = {n for n in _names(a.title) if any(n in b for b in bodies)}
            if not names:
                continue
            own = [n for n in names if bodies[i].count(n) > 0
                   and all(bodies[i].count(n) > b.count(n) for j, b in enumerate(bodies) if j != i)]
            assert own, (name, i, a.title, sorted(names))


def test_no_headline_is_glued_into_another_articles_text(seeds):
    for name, doc in seeds.items():
        arts = articles(doc)
        for i, a in enumerate(arts):
            for part in re.split(r" ", a.title):
                if len(part) < 8:
                    continue
                for j, other in enumerate(arts):
                    if j != i:
                        assert part not in _body(other), (name, part, j)


def _passages_with(seeds, needle):
    return [(n, c) for n, d in seeds.items() for c in chunk_document(d) if needle in c.text]


def test_ningxia_figures_are_cited_under_a_ningxia_title(seeds):
    hits = _passages_with(seeds, "2752")  # certificate holders in the Ningxia report
    assert hits
    for _, c in hits:
        assert "宁夏" in c.title, c.title
    # and every passage of that article: from its first paragraph naming the region on
    ningxia = [c for _, c in _passages_with(seeds, "宁夏")]
    assert ningxia and all("宁夏" in c.title for c in ningxia)
    article = {c.article for c in ningxia}
    assert len(article) == 1
    doc = next(d for d in seeds.values() if any("2752" in b.text for b in d.blocks))
    same = [c for c in chunk_document(doc) if c.article in article]
    assert all("宁夏" in c.title for c in same)
    # the ministry article before it keeps its own headline and no Ningxia text
    before = [c for c in chunk_document(doc) if c.article == min(article) - 1]
    assert before and all("宁夏" not in c.title and "宁夏" not in c.text for c in before)


def test_xuancheng_passages_have_their_headline(seeds):
    hits = _passages_with(seeds, "宣城")
    assert hits
    doc_name = hits[0][0]
    art = hits[0][1].article
    for c in chunk_document(seeds[doc_name]):
        if c.article == art:
            assert "宣城" in c.title and not c.title.endswith("…"), c.title


def test_a_subheadline_stays_out_of_the_body_of_the_article_below_it(seeds):
    """001 prints "region headline / its subheadline" at the top, then another article."""
    for name, doc in seeds.items():
        arts = articles(doc)
        for a in arts:
            first = a.text_blocks[0].text
            # an article's text starts with a sentence, not with a headline line run into it
            opening = re.split(r"[，。！？；,]", first)[0]
            for other in arts:
                for part in other.title.split(" "):
                    assert not (len(part) >= 8 and first.startswith(part)), (name, part, opening)
    jiajiang = [c for _, c in _passages_with(seeds, "夹江县")]
    assert jiajiang and all("夹江" in c.title for c in jiajiang)
    assert not any("全区社会工作专业人才达到5万人" in c.text for c in jiajiang)
    guangxi = [c for _, c in _passages_with(seeds, "广西壮族自治区")]
    assert guangxi and all("广西" in c.title and "5万人" in c.title for c in guangxi)


def test_kicker_above_the_headline_is_no_article_of_its_own(seeds):
    for name, doc in seeds.items():
        for a in articles(doc):
            # every article has body text beyond a single headline-like line
            assert len(_body(a)) > 60, (name, a.title, _body(a))


def test_passages_still_map_to_their_lines(seeds):
    for path in SEEDS:
        raw = path.read_text(encoding="utf-8").split("\n")
        for c in chunk_document(seeds[path.name]):
            span = re.sub(r"\s|\ufffd", "", "".join(raw[c.start_line - 1: c.end_line]))
            text = re.sub(r"\s", "", c.text)
            assert text[:4] in span and text[-4:] in span, (path.name, c.start_line, c.end_line)


# ----------------------------------------------------------------------------- layouts

GZ = ("近日，广州市民政局在越秀区启用首批社区养老服务站，为辖区独居老人提供助餐、助浴和上门探访服务，"
      "首批服务老人1200名。")
GZ2 = "越秀区民政部门表示，下一步将在全区推广这一做法，力争年底前社区养老服务站覆盖全部街道。"
CD = ("日前，成都市武侯区团委联合区民政局启动志愿服务月活动，组织青年志愿者深入社区开展助老助残服务，"
      "参与志愿者超过3000人次。")
CD2 = "武侯区团委负责人介绍，活动期间还将评选一批优秀志愿服务项目，并给予资金支持。"
H_GZ = "广州越秀：首批社区养老服务站启用"
H_CD = "成都武侯：青年志愿服务月启动"


def _check_two(got):
    assert len(got) == 2, got
    (t1, b1), (t2, b2) = got
    assert t1 == H_GZ and b1.startswith("近日，广州市") and "成都" not in b1
    assert t2 == H_CD and b2.startswith("日前，成都市") and "广州" not in b2


def test_headline_before_its_article(tmp_path):
    raw = f"{H_GZ}\n\n{GZ}\n{GZ2}\n（据广州市民政局）\n\n{H_CD}\n\n{CD}\n{CD2}\n（据成都日报）\n"
    _check_two(_titled(_doc(tmp_path, raw)))


def test_headline_after_the_credit_line(tmp_path):
    raw = f"{GZ}\n{GZ2}\n（据广州市民政局）\n{H_GZ}\n\n{CD}\n{CD2}\n（据成都日报）\n{H_CD}\n"
    _check_two(_titled(_doc(tmp_path, raw)))


def test_headline_block_at_the_top_of_the_page(tmp_path):
    # both headlines first, and in the other order than their articles
    raw = f"{H_CD}\n\n{H_GZ}\n\n{GZ}\n{GZ2}\n（据广州市民政局）\n\n{CD}\n{CD2}\n（据成都日报）\n"
    _check_two(_titled(_doc(tmp_path, raw)))


def test_untitled_article_gets_its_first_sentence_shortened(tmp_path):
    doc = _doc(tmp_path, f"{GZ}\n{GZ2}\n")
    [(title, body)] = _titled(doc)
    assert title == GZ[:30] + "…"
    assert all(c.title == title for c in chunk_document(doc))
    short = "社区养老服务站今日启用。"
    [(title, _)] = _titled(_doc(tmp_path, f"{short}\n{GZ2}\n", "short.txt"))
    assert title == "社区养老服务站今日启用"
    english = "The county opened a station. It serves the elderly of three villages every day."
    [(title, _)] = _titled(_doc(tmp_path, f"{english}\n{GZ2}\n", "english.txt"))
    assert title == "The county opened a station."  # the first sentence, as the highlight reads it


def test_markdown_heading_of_a_one_article_file(tmp_path):
    doc = _doc(tmp_path, f"# {H_GZ}\n\n{GZ}\n\n{GZ2}\n", "page.md")
    assert _titled(doc) == [(H_GZ, GZ + GZ2)]
    assert all(c.title == H_GZ for c in chunk_document(doc))


def test_two_articles_run_together_are_cut_where_the_later_headline_names_them(tmp_path):
    # the first article has no credit; the second's headline is printed after its credit
    raw = f"{H_GZ}\n\n{GZ}\n{GZ2}\n\n{CD}\n{CD2}\n（据成都日报）\n{H_CD}\n"
    _check_two(_titled(_doc(tmp_path, raw)))


def test_credit_and_next_headline_run_on_after_the_last_sentence(tmp_path):
    # the extractor left the credit and the headline below it in the paragraph's last lines
    raw = (f"{H_GZ}\n\n{GZ}\n{GZ2}\n\n{CD}\n武侯区团委负责人介绍，活动期间还将评选一批优秀\n"
           f"志愿服务项目，并给予资金支持。（据成都\n日报）\n成都武侯：青年志\n愿服务月启动\n")
    got = _titled(_doc(tmp_path, raw))
    assert [t for t, _ in got] == [H_GZ, "成都武侯：青年志愿服务月启动"]
    assert not any("（据" in b or "服务月启动" in b for _, b in got)


def test_subheadline_and_kicker_join_the_headline(tmp_path):
    sub = "首批服务老人1200名，年底覆盖全部街道"
    below = f"{H_GZ}\n{sub}\n\n\ufffd\ufffd {GZ}\n{GZ2}\n（据广州市民政局）\n"
    above = f"{sub}\n{H_GZ}\n\n{GZ}\n{GZ2}\n（据广州市民政局）\n"
    for i, raw in enumerate((below, above)):
        got = _titled(_doc(tmp_path, raw, f"p{i}.txt"))
        assert got == [(f"{H_GZ} {sub}", GZ + GZ2)], got


def test_a_closing_line_that_is_no_headline_stays_text(tmp_path):
    raw = f"{H_GZ}\n\n{GZ}\n{GZ2}\n（据广州市民政局）\n责任编辑 张三\n"
    [(title, _)] = _titled(_doc(tmp_path, raw))
    assert title == H_GZ
    # a trailing line that shares words with the article, but the article has its headline
    raw = f"{H_GZ}\n\n{GZ}\n{GZ2}\n（据广州市民政局）\n社区养老服务站建设情况\n"
    [(title, body)] = _titled(_doc(tmp_path, raw, "b.txt"))
    assert title == H_GZ and body.endswith("社区养老服务站建设情况")


def test_headline_last_in_the_file_without_credit(tmp_path):
    raw = f"{GZ}\n{GZ2}\n\n{H_GZ}\n"
    assert _titled(_doc(tmp_path, raw)) == [(H_GZ, GZ + GZ2)]
