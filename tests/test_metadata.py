"""Bulletin metadata (qa/ingest/metadata.py): what it extracts from the seed bulletins, measured against
labels written by reading them, and the region and date filters of ``qa.search``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "corpus"

TRUTH = json.loads((ROOT / "tests" / "data" / "seed_citations.json").read_text(encoding="utf-8"))["files"]


def extracted() -> tuple[dict, dict]:
    """({(file, article): (title, ArticleMeta)}, {file: Masthead}) of the seed bulletins."""
    from qa.ingest.chunk import articles
    from qa.ingest.read import read_document
    from qa.ingest.metadata import describe

    metas, heads = {}, {}
    for p in sorted(SEEDS.iterdir()):
        doc = read_document(p, p.name, root=SEEDS)
        arts = articles(doc)
        head, ms = describe(doc, arts)
        heads[p.name] = head
        for i, (a, m) in enumerate(zip(arts, ms)):
            metas[(p.name, i)] = (a.title, m)
    return metas, heads


def _tally(pairs) -> dict:
    """{"right", "empty" (nothing extracted where the truth has something), "wrong", "n"} of
    (extracted, accepted values) pairs; an empty truth is right only when nothing is extracted."""
    out = {"right": 0, "empty": 0, "wrong": 0, "n": 0}
    for got, ok in pairs:
        out["n"] += 1
        out["right" if got in ok else "empty" if not got else "wrong"] += 1
    return out


def measure() -> dict:
    """The hand-made table (tests/data/seed_citations.json) against the extraction: a tally per
    field (docs/citations.md publishes it)."""
    metas, heads = extracted()
    arts = [(f, i, a) for f, t in TRUTH.items() for i, a in enumerate(t["articles"])]
    assert set(metas) == {(f, i) for f, i, _ in arts}
    return {
        "publication": _tally((heads[f].publication, [t["publication"]]) for f, t in TRUTH.items()),
        "issue": _tally((heads[f].issue, [t["issue"]]) for f, t in TRUTH.items()),
        "issue date": _tally((heads[f].issue_date, [t["issue_date"]]) for f, t in TRUTH.items()),
        "article title": _tally((metas[(f, i)][0], [a["title"]]) for f, i, a in arts),
        "article date": _tally((metas[(f, i)][1].date, [a["date"]]) for f, i, a in arts),
        "issuer": _tally((metas[(f, i)][1].issuer, a["issuer"]) for f, i, a in arts),
        "region": _tally((metas[(f, i)][1].region, [a["region"]]) for f, i, a in arts),
    }


def test_seed_citations_measured_against_the_hand_made_table():
    """The figures docs/citations.md and README give.  Every file's publication is its masthead or
    empty, never an article's headline; every article's date and issuer are right or empty."""
    tally = measure()
    for field, t in tally.items():
        print(f"{field}: {t['right']} right, {t['empty']} empty, {t['wrong']} wrong of {t['n']}")
    assert tally["publication"] == {"right": 5, "empty": 0, "wrong": 0, "n": 5}
    assert tally["article date"] == {"right": 12, "empty": 0, "wrong": 0, "n": 12}
    assert tally["issuer"] == {"right": 12, "empty": 0, "wrong": 0, "n": 12}
    assert tally["region"]["right"] == 12 and tally["article title"]["right"] == 12
    metas, heads = extracted()
    titles = {t for t, _ in metas.values()}
    assert not any(h.publication and (h.publication in titles or any(h.publication in t for t in titles
                                                                     if len(h.publication) > 8)) for h in heads.values())


def test_region_codes_and_filters_follow_the_divisions():
    from qa.ingest import metadata

    region, codes = metadata.region_of("甘肃酒泉：多措并举推动社会工作", "")
    assert region == "甘肃省酒泉市" and codes == ["620900"]
    gansu, jiuquan, hubei = (metadata.resolve_regions([n]) for n in ("甘肃", "酒泉市", "湖北省"))
    assert metadata.in_regions(codes, gansu) and metadata.in_regions(codes, jiuquan)
    assert not metadata.in_regions(codes, hubei)
    assert not metadata.in_regions(["620000"], jiuquan)  # the province as a whole is not within 酒泉
    assert metadata.resolve_regions(["620900"]) == jiuquan == metadata.resolve_regions(["jiuquan"])
    assert metadata.region_of("民政部将从三方面加强社工专业人才队伍建设", "10月16至17日，全国考试举行。") == ("", [])
    with pytest.raises(ValueError, match="unknown region"):
        metadata.resolve_regions(["火星"])


def test_dates_are_full_dates_only():
    from datetime import date

    from qa.ingest import metadata

    assert metadata.date_of("2024年3月5日，某市民政局印发通知。") == "2024-03-05"
    assert metadata.date_of("2023 年 11 月，某省召开会议。") == "2023-11"
    assert metadata.date_of("会议于2024-03-05召开。") == "2024-03-05"
    assert metadata.date_of("11月5日，民政部举行发布会。") == ""  # no year: not the article's date
    assert metadata.date_of("到2025年底，全区社会工作专业人才达到5万人。") == ""  # a target year
    assert metadata.parse_bound("2024") == date(2024, 1, 1)
    assert metadata.parse_bound("2024-02", end=True) == date(2024, 2, 29)
    assert metadata.in_dates("2024-03", date(2024, 3, 31), None)
    assert not metadata.in_dates("", date(2000, 1, 1), None)
    with pytest.raises(ValueError):
        metadata.parse_bound("2024-13")


@pytest.mark.slow
def test_search_filters_by_region_on_the_seeds(seed_index):
    """The issue's acceptance: with regions=["甘肃"] every passage is of the 酒泉 article, named with
    its region and no bulletin name (its page prints none), and the 300/800 passage is among them."""
    import qa

    _corpus, index = seed_index
    hits = qa.search("certified-worker goal 2025", regions=["甘肃"], index=index)
    assert hits and all("甘肃" in p.region and "酒泉" in p.region for p in hits)
    assert all(p.doc_title == "" for p in hits)  # 003 prints no masthead: no publication, not a headline
    assert all(p.citation.startswith(p.title) and p.citation.endswith(f"lines {p.start_line}-{p.end_line})")
               for p in hits)
    goal = [p for p in hits if "800名以上" in p.text]
    assert goal, "the 300/800 passage is not among the 甘肃 results"
    assert goal[0].issuer == "酒泉市委社会工作部"
    unfiltered = qa.search("certified-worker goal 2025", index=index)
    assert {p.region for p in unfiltered} - {p.region for p in hits}  # the filter narrowed something
    with pytest.raises(ValueError, match="unknown region"):
        qa.search("社会工作", regions=["火星"], index=index)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="the issue asks for the 300/800 passage first; hybrid ranks the 酒泉 "
                                       "article's other 2025 goals (service coverage 30 %, then 持证率 50 %: "
                                       "certified-worker goals too) first and the 300/800 passage third; "
                                       "'certified' reaches no corpus term (CC-CEDICT has no 'certify', no 持证), "
                                       "and e5 ranks the 持证率 clause above the 300/800 one even for the Chinese "
                                       "'持证社会工作者 目标 2025' (0.923 against 0.920)")
def test_region_filtered_goal_passage_is_first(seed_index):
    import qa

    hits = qa.search("certified-worker goal 2025", regions=["甘肃"], index=seed_index[1])
    assert "800名以上" in hits[0].text


@pytest.mark.slow
def test_dated_bulletins_filter_by_date(tmp_path, embedder):
    import qa
    from tests.conftest import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kashi.txt").write_text(
        "喀什启动社区社工站项目\n\n2024年3月5日，喀什市民政局印发通知，启动社区社工站“暖心驿站”项目，"
        "到2026年底前全市建成126个社区社工站。\n（据喀什市民政局）\n", encoding="utf-8")
    (corpus / "yinchuan.txt").write_text(
        "银川推进社工站建设\n\n2022年7月，银川市民政局印发方案，推进乡镇（街道）社工站建设，"
        "全市建成社工站58个。\n（据银川市民政局）\n", encoding="utf-8")
    index = tmp_path / "index"
    build_index(corpus, index, embedder)
    both = qa.search("社工站 建成多少个", k=5, index=index)
    assert {p.source for p in both} == {"kashi.txt", "yinchuan.txt"}
    kashi = next(p for p in both if p.source == "kashi.txt")
    assert (kashi.date, kashi.region, kashi.issuer) == ("2024-03-05", "新疆维吾尔自治区喀什地区喀什市", "喀什市民政局")
    assert {p.source for p in qa.search("社工站 建成多少个", index=index, since="2023")} == {"kashi.txt"}
    assert {p.source for p in qa.search("社工站 建成多少个", index=index, until="2022-07")} == {"yinchuan.txt"}
    assert {p.source for p in qa.search("社工站 建成多少个", index=index, regions=["宁夏"])} == {"yinchuan.txt"}
    assert not qa.search("社工站 建成多少个", index=index, since="2025-01-01")


@pytest.mark.slow
def test_cli_search_filters_and_prints_the_source(seed_index, capsys):
    import json

    from qa.app import cli

    _corpus, index = seed_index
    assert cli.main(["search", "certified-worker goal 2025", "--region", "甘肃", "-k", "3", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "甘肃省酒泉市" in out and "酒泉市委社会工作部" in out and "000_" not in out
    assert cli.main(["search", "社会工作", "--region", "湖北", "--json", "--index", str(index)]) == 0
    hits = json.loads(capsys.readouterr().out)["passages"]
    assert hits and all(h["region"] == "湖北省" for h in hits)
    assert cli.main(["search", "社会工作", "--region", "火星", "--index", str(index)]) == 2
    assert cli.main(["search", "社会工作", "--since", "2024-13", "--index", str(index)]) == 2


def test_a_place_name_does_not_cut_into_a_word():
    """长治久安 is "lasting peace", not 长治市; 文山会海, 大理石 and 阿里巴巴 name no place either.  A
    name followed by its unit or an organ inside the word still counts (凉山州, 湖北省委), and so
    does a full name that jieba cuts through (喀什市|民政局, cut 喀什/市民/政局)."""
    from qa.ingest.metadata import places_in

    for text in ("确保社会长治久安", "精简文山会海，减轻基层负担", "大理石地面", "阿里巴巴公益基金会"):
        assert places_in(text) == [], text
    for text, place in (("凉山州社工站建设", "凉山彝族自治州"), ("湖北省委社会工作部", "湖北省"),
                        ("喀什市民政局印发通知", "喀什市"), ("长治市民政局", "长治市"), ("云南大理州", "大理白族自治州")):
        assert [p.name for p in places_in(text)] == [place], text


def test_prefectures_without_a_short_form_get_the_dictionary_s():
    """cpca gives 喀什地区 or 凉山彝族自治州 no short form; CC-CEDICT does (喀什 "Kashgar ... city and
    prefecture"; 凉山 spells "Liangshan" of "Liangshan Yi autonomous prefecture"), unless the
    word names a place outside it (海南 is the province)."""
    from qa.text.lexicon import places
    from qa.retrieve.query import understand

    by = {p.name: p for p in places().all}
    assert by["喀什地区"].short == "喀什" and by["凉山彝族自治州"].short == "凉山"
    assert by["锡林郭勒盟"].short == "锡林郭勒" and by["海南藏族自治州"].short == "海南藏族自治州"
    for q, name in (("Kashgar social workers", "喀什地区"), ("Liangshan social workers 2025", "凉山彝族自治州"),
                    ("凉山 社工站 数量", "凉山彝族自治州")):
        assert name in {p.name for m in understand(q, {}, {}).places for p in m.places}, q


def _describe(tmp_path, name: str, raw: str):
    """(masthead, [(title, ArticleMeta)]) of a made-up bulletin file."""
    from qa.ingest.chunk import articles
    from qa.ingest.metadata import describe
    from qa.ingest.read import read_document

    p = tmp_path / name
    p.write_text(raw, encoding="utf-8")
    doc = read_document(p, name, root=tmp_path)
    arts = articles(doc)
    head, metas = describe(doc, arts)
    return head, [(a.title, m) for a, m in zip(arts, metas)]


ISSUE_PAGE = ("{top}\n\n喀什启动社区社工站项目\n\n3月5日，喀什市民政局印发通知，启动社区社工站“暖心驿站”项目，"
              "到2026年底前全市建成126个社区社工站。\n（据喀什市民政局）\n\n银川推进社工站建设\n\n"
              "日前，自治区民政厅印发方案，推进乡镇（街道）社工站建设。银川市建成社工站58个。\n（来源：银川市民政局）\n")


@pytest.mark.parametrize("top, publication, issue, issue_date", [
    ("中国社会工作\n2021年11月15日 星期一 第32期", "中国社会工作", "第32期", "2021-11-15"),
    ("《民政工作简报》\n2021年第12期（总第125期）\n某某市民政局办公室编 2021年11月15日",
     "民政工作简报", "2021年第12期（总第125期）", "2021-11-15"),
    ("中国社会报\n2021年11月15日", "中国社会报", "", "2021-11-15"),
    ("2021年11月15日 星期一\n中国社会报 第5版", "中国社会报", "", "2021-11-15"),
    ("CHINA SOCIETY NEWS 中国社会报\n国内统一连续出版物号 CN11-0045 邮发代号 1-45\n"
     "2021年11月15日 星期一 第5版 责任编辑：张三 美编：李四", "中国社会报", "", "2021-11-15"),
])
def test_a_masthead_names_the_publication_and_issue_never_an_article(tmp_path, top, publication, issue, issue_date):
    """Masthead lines at the top of an issue give its publication, issue and date; they are no
    article's headline; each article dates itself by the issue's year (3月5日) or, opening with
    日前, by the issue's date; its issuer is the body credited, not the body its text names first."""
    head, arts = _describe(tmp_path, "page.txt", ISSUE_PAGE.format(top=top))
    assert (head.publication, head.issue, head.issue_date) == (publication, issue, issue_date)
    assert [t for t, _ in arts] == ["喀什启动社区社工站项目", "银川推进社工站建设"]
    assert [(m.date, m.issuer) for _, m in arts] == [("2021-03-05", "喀什市民政局"), ("2021-11-15", "银川市民政局")]


@pytest.mark.parametrize("top", [
    "",  # no masthead at all
    "2021年11月15日",  # a bare date line is no publication's name
    "湖北社工专业人才达8万人",  # a headline with a figure is no running head
    "全市第5期社工培训班开班\n2021年11月15日",  # an issue number inside a headline's words is no issue
])
def test_no_masthead_no_publication(tmp_path, top):
    head, arts = _describe(tmp_path, "page.txt", ISSUE_PAGE.format(top=top))
    assert (head.publication, head.issue) == ("", "")
    assert "喀什启动社区社工站项目" in arts[0][0] or "湖北" in arts[0][0]


def test_a_headline_over_its_dateline_is_no_publication(tmp_path):
    """A one-article file whose headline stands over a bare date: the date is the article's, the
    headline is the article's title and names no publication."""
    head, arts = _describe(tmp_path, "news.txt", "喀什启动社区社工站项目\n2024年3月5日\n\n喀什市民政局印发通知，启动社区社工站"
                                               "“暖心驿站”项目。\n")
    assert (head.publication, head.issue_date) == ("", "")
    assert arts[0][0].startswith("喀什启动社区社工站项目") and arts[0][1].date == "2024-03-05"


@pytest.mark.parametrize("name, publication, issue, issue_date", [
    ("中国社会工作2021年第32期.txt", "中国社会工作", "2021年第32期", ""),
    ("民政简报_2024-03-05.txt", "民政简报", "", "2024-03-05"),
    ("《社会工作动态》20240305.txt", "社会工作动态", "", "2024-03-05"),
    ("喀什启动社区社工站项目2024-03-05.txt", "", "", "2024-03-05"),  # a headline as file name is no publication
    ("003_41b0a890d9bd57ab.txt", "", "", ""),
])
def test_the_file_name_gives_what_the_text_does_not(name, publication, issue, issue_date):
    from qa.ingest.masthead import read_masthead

    head = read_masthead([], name)
    assert (head.publication, head.issue, head.issue_date) == (publication, issue, issue_date)


def test_article_dates_take_a_stated_or_the_issue_s_year_and_nothing_else():
    from qa.ingest.metadata import date_of

    text = "10月16至17日，全国考试举行。11月5日，民政部举行2021年第四季度例行新闻发布会。"
    assert date_of(text) == "2021-11-05"  # the span is the exam's; the day takes its sentence's year
    assert date_of("3月5日，某市印发方案，到2025年底建成100个社工站。") == ""  # a target year is no year of the day
    assert date_of("12月28日，某市召开会议。", issue_date="2022-01-10") == "2021-12-28"  # the year before the issue
    assert date_of("日前，某市民政局印发方案。", issue_date="2022-01-10") == "2022-01-10"
    assert date_of("去年3月5日，某市印发方案。", issue_date="2022-01-10") == "2021-03-05"
    assert date_of("去年3月5日，某市印发2022年方案。") == ""  # last year of an unknown issue: no year
    assert date_of("日前，某市民政局印发方案。") == ""


def test_the_credited_body_is_the_issuer():
    from qa.ingest.metadata import credited, issuer_of

    body = "2020年，民政部召开推进会。东莞市结对帮扶铜仁市。"
    assert issuer_of(body, ["（据铜仁市民政局）"]) == "铜仁市民政局"
    assert issuer_of(body, []) == "民政部"
    assert issuer_of("浙江省温州市民政局坚持推动社工站建设。", ["（据温州市民政局）"]) == "浙江省温州市民政局"
    assert issuer_of(body, ["（据“长春朝阳”微信公众号）"]) == "民政部"  # an account is no issuer
    assert credited(["（来源：喀什市民政局）", "（银川市民政局供稿）", "来源：宁夏回族自治区民政厅"]) == \
        ["喀什市民政局", "银川市民政局", "宁夏回族自治区民政厅"]
