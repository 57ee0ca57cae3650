"""PDF, DOCX, Markdown and HTML bulletins: read, cleaned like .txt, indexed with the real
model and FAISS on disk, found by search and cited (PDF passages with their page)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.ingest.formats import page_range
from qa.ingest.read import IngestError, read_document

# One fact per page / file, worded so that each query has one right answer.
PDF_PAGES = [
    ["甘肃省酒泉市民政局近日召开社会工作推进会。",
     "会议通报，酒泉市持证社会工作者已达到一千二百人，",
     "比上年增长三成，全市建成乡镇社工站七十二个。"],
    ["云南省昆明市推进社区养老服务站建设，",
     "截至今年六月，城市社区养老服务站覆盖率达到百分之八十五，",
     "农村互助养老点新增三百四十个。"],
    ["宁夏银川市开展困境儿童关爱行动，",
     "为一千六百名困境儿童建立个案档案，",
     "引入十二家社会组织提供心理辅导服务。"],
]


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A Chinese PDF drawn with reportlab's built-in CID font (no font file needed)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    for lines in pages:
        c.setFont("STSong-Light", 12)
        c.drawString(72, 780, "社会工作简报")
        for i, line in enumerate(lines):
            c.drawString(72, 740 - 20 * i, line)
        c.showPage()
    c.save()
    return path


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("湖北省民政事业发展规划", 1)
    d.add_paragraph("湖北省民政厅提出，到二〇二五年全省社会工作专业人才总量达到八万人。")
    d.add_paragraph("规划同时要求社区工作者持证比例达到百分之五十以上。")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "指标", "目标"
    t.cell(1, 0).text, t.cell(1, 1).text = "乡镇社工站覆盖率", "百分之百"
    d.save(str(path))
    return path


HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>四川简报</title>
<style>p { color: red } .x::after { content: "样式文字不应出现" }</style>
<script>var s = "<p>脚本文字不应出现</p>";</script></head>
<body>
<h1>成都市志愿服务</h1>
<p>成都市注册志愿者人数突破五百八十万，
志愿服务组织达到一万三千家。</p>
<p>武侯区试点“时间银行”互助养老模式。</p>
</body></html>
"""

MARKDOWN = """# 浙江温州社工简报

温州市**鹿城区**在全部[街道](https://example.org)设立社会工作服务站，
站点年度服务困难群众四万余人次。

- 为独居老人提供上门探访
- 组织社区矛盾调解
"""


def test_pdf_pages_are_mapped(tmp_path):
    doc = read_document(make_pdf(tmp_path / "b.pdf", PDF_PAGES))
    assert doc.meta["format"] == "pdf" and doc.meta["page_count"] == 3
    pages = doc.meta["pages"]
    for b in doc.blocks:
        if "一千六百" in b.text:
            assert page_range(doc.meta, b.first_line, b.last_line) == (3, 3)
        if "百分之八十五" in b.text:
            assert pages[b.first_line - 1] == 2
    assert sorted(set(pages)) == [1, 2, 3] and pages == sorted(pages)


def test_html_drops_script_and_style_and_cites_source_lines(tmp_path):
    p = tmp_path / "p.html"
    p.write_text(HTML, encoding="utf-8")
    doc = read_document(p)
    assert "不应出现" not in doc.text and "color" not in doc.text
    src = HTML.split("\n")
    for b in doc.blocks:
        # every block starts on a line of the .html file that holds its first characters
        assert b.text[:4] in src[b.first_line - 1], (b.text, b.first_line)
    assert any(b.kind == "heading" and b.text == "成都市志愿服务" for b in doc.blocks)


def test_markdown_keeps_line_numbers(tmp_path):
    p = tmp_path / "m.md"
    p.write_text(MARKDOWN, encoding="utf-8")
    doc = read_document(p)
    assert "**" not in doc.text and "https" not in doc.text and "](" not in doc.text
    src = MARKDOWN.split("\n")
    for b in doc.blocks:
        for ch, line in zip(b.text, b.lines):
            assert ch in src[line - 1], (ch, line)
    assert [b.text for b in doc.blocks if b.kind == "heading"][0] == "浙江温州社工简报"


def test_docx_paragraphs_are_lines(tmp_path):
    doc = read_document(make_docx(tmp_path / "d.docx"))
    assert doc.meta == {"format": "docx", "unit": "paragraph"}
    kinds = {b.text: (b.kind, b.first_line) for b in doc.blocks}
    assert kinds["湖北省民政事业发展规划"] == ("heading", 1)
    assert kinds["规划同时要求社区工作者持证比例达到百分之五十以上。"][1] == 3
    assert any("乡镇社工站覆盖率" in t for t in kinds)


@pytest.mark.parametrize("name,data", [
    ("truncated.pdf", None),  # filled in below from a real PDF
    ("garbage.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 40),
    ("not-a-pdf.pdf", "这不是PDF文件".encode()),
    ("garbage.docx", b"PK\x03\x04" + b"\x00" * 300),
    ("text.docx", "这不是DOCX文件".encode()),
    ("empty.html", b"<html><head><script>var a=1</script></head><body>  </body></html>"),
    ("binary.md", bytes(range(256)) * 8),
])
def test_damaged_files_raise_ingest_error(tmp_path, name, data):
    p = tmp_path / name
    if data is None:
        full = make_pdf(tmp_path / "full.pdf", PDF_PAGES).read_bytes()
        data = full[: len(full) // 3]
    p.write_bytes(data)
    with pytest.raises(IngestError) as e:
        read_document(p)
    assert name in str(e.value)


def test_pdf_without_text_layer_is_skipped(tmp_path):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(tmp_path / "scan.pdf"))
    c.rect(100, 100, 300, 300, fill=1)
    c.showPage()
    c.save()
    with pytest.raises(IngestError, match="no text layer"):
        read_document(tmp_path / "scan.pdf")


@pytest.fixture(scope="module")
def mixed_index(tmp_path_factory, embedder):
    """A corpus of every format (plus one seed .txt and two damaged files), indexed."""
    from tests.conftest import build_index

    base = tmp_path_factory.mktemp("formats")
    corpus = base / "corpus"
    corpus.mkdir()
    make_pdf(corpus / "甘肃简报.pdf", PDF_PAGES)
    make_docx(corpus / "湖北规划.docx")
    (corpus / "四川.html").write_text(HTML, encoding="utf-8")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "温州.md").write_text(MARKDOWN, encoding="utf-8")
    seed = sorted((Path(__file__).resolve().parent.parent / "corpus").glob("*.txt"))[0]
    shutil.copy(seed, corpus / seed.name)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<")
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04broken")
    index = base / "index"
    report = build_index(corpus, index, embedder)
    return corpus, index, report


def test_damaged_files_are_skipped_with_a_warning_not_lost(mixed_index):
    corpus, index, report = mixed_index
    assert report.files == 5
    skipped = "\n".join(report.skipped)
    assert "broken.pdf" in skipped and "broken.docx" in skipped and len(report.skipped) == 2


@pytest.mark.parametrize("query,source,needle,page", [
    ("酒泉市持证社会工作者有多少人", "甘肃简报.pdf", "一千二百", 1),
    ("昆明城市社区养老服务站覆盖率", "甘肃简报.pdf", "百分之八十五", 2),
    ("银川困境儿童个案档案", "甘肃简报.pdf", "一千六百", 3),
    ("湖北社会工作专业人才总量目标", "湖北规划.docx", "八万人", None),
    ("成都注册志愿者人数", "四川.html", "五百八十万", None),
    ("温州鹿城区社会工作服务站服务人次", "sub/温州.md", "四万余人次", None),
])
def test_each_format_is_found_and_cited(mixed_index, query, source, needle, page):
    from qa.app.api import search
    from qa.index.folder import StoredIndex

    corpus, index, _ = mixed_index
    hits = search(query, k=3, index=index)
    top = [h for h in hits if h.source == source and needle in h.text]
    assert top, [(h.source, h.text[:40]) for h in hits]
    h = top[0]
    assert hits.index(h) == 0, [(x.source, x.text[:30]) for x in hits]
    # the cited lines hold the answer in the original file's own numbering
    doc = read_document(corpus / source, source)
    cited = "".join(ch for b in doc.blocks for ch, ln in zip(b.text, b.lines) if h.start_line <= ln <= h.end_line)
    assert needle in cited
    if page is not None:
        assert page_range(doc.meta, h.start_line, h.end_line) == (page, page)
        row = next(p for p in StoredIndex.load(index).passages
                   if p["source"] == source and p["start_line"] == h.start_line and p["text"] == h.text)
        if "page_start" in row:  # once chunk.py carries the pages into the passages
            assert (row["page_start"], row["page_end"]) == (page, page)


def test_markdown_blocks_are_read_on_their_own_lines():
    """markdown-it-py (issue 11): setext headings, tables, code, front matter, escapes and
    entities; every character stays on its source line."""
    from qa.ingest.formats import INDENT, markdown_to_text

    src = ("---\ntitle: 元数据不应出现\n---\n浙江温州社工简报\n========\n\n"
           "| 指标 | 目标 |\n|---|---|\n| 乡镇社工站覆盖率 | 百分之百 |\n\n"
           "```\n代码块一行\n```\n"
           "转义 \\*星号\\* 与 &amp; 实体，snake_case 与 5 * 3 保留，~~删除线~~ 与 ![图片说明](x.png) 取文字。\n")
    out = markdown_to_text(src).split("\n")
    assert len(out) == len(src.split("\n"))
    assert "元数据" not in "\n".join(out)
    assert out[3] == "# 浙江温州社工简报" and out[4] == ""
    assert out[6] == INDENT + "指标 目标" and out[7] == "" and out[8] == INDENT + "乡镇社工站覆盖率 百分之百"
    assert out[11] == INDENT + "代码块一行"
    assert out[13] == "转义 *星号* 与 & 实体，snake_case 与 5 * 3 保留，删除线 与 图片说明 取文字。"


def _unpunctuated(path: Path, n_bytes: int) -> Path:
    """Chinese characters without a punctuation mark, a space or a line break (issue 31, finding 7)."""
    import random

    rnd = random.Random(7)
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    path.write_text("".join(rnd.choice(han) for _ in range(n_bytes // 3)), encoding="utf-8")
    return path


def test_unpunctuated_file_is_prepared_under_the_read_limits(tmp_path):
    """Reading and chunking a 2 MB file without punctuation happen in the reading worker: with the
    default limits its passages come back; with a limit it cannot meet it is named and skipped
    instead of holding the build (finding 7: 2 MB kept the page's Rebuild busy ~14.5 min)."""
    from qa.settings import Settings

    p = _unpunctuated(tmp_path / "wall.txt", 2 * 1024 * 1024)
    s = Settings()
    try:
        doc = read_document(p, root=tmp_path, settings=s, chunking=(500, 100))
    except IngestError as e:  # a machine too busy for the limit: named, not hanging
        assert "wall.txt" in str(e) and "limit" in str(e)
    else:
        assert doc.chunks and all(len(c.text) <= 500 for c in doc.chunks)
        assert sum(len(c.text) for c in doc.chunks) >= len(doc.text) * 0.99
    with pytest.raises(IngestError, match=r"wall\.txt: reading it took longer than the 1 s limit"):
        read_document(p, root=tmp_path, settings=s.replace(read_seconds=1.0), chunking=(500, 100))


def test_jieba_pieces_cover_the_text_linearly():
    """The pieces jieba gets (qa.text.chars.pieces) are bounded and cover the text in order."""
    from qa.text.chars import JIEBA_PIECE, jieba_tokenize, pieces

    text = "社会工作" * 300 + "，" + "民政" * 500 + "。末尾"
    got = list(pieces(text))
    assert "".join(p for _, p in got) == text
    assert all(len(p) <= JIEBA_PIECE and text[o:o + len(p)] == p for o, p in got)
    assert all(text[a:e] == w for w, a, e in jieba_tokenize(text))


TABLE_HTML = """<html><body><h1>四川省社会工作人才统计</h1><p>下表为四川省社会工作人才情况。</p>
<table><tr><th>年份</th><th>社会工作者总数</th><th>持证社会工作者</th></tr>
<tr><td>2022年</td><td>8.45万人</td><td>1.61万人</td></tr>
<tr><td>2023年</td><td>9.29万人</td><td>1.93万人</td></tr></table><p>以上数据来自四川省民政厅。</p></body></html>"""


def make_table_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("湖北省养老服务统计", 1)
    d.add_paragraph("湖北省民政厅公布了养老服务设施情况。")
    rows = [["年份", "养老机构床位", "社区养老服务站"], ["2021年", "41.2万张", "3100个"], ["2022年", "44.8万张", "3650个"]]
    t = d.add_table(rows=3, cols=3)
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            t.cell(i, j).text = v
    d.save(str(path))
    return path


def make_table_pdf(path: Path) -> Path:
    """A ruled table drawn with reportlab (pdfplumber finds it by its lines)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    c.setFont("STSong-Light", 12)
    c.drawString(72, 780, "甘肃省困难群众救助情况。下表为各年度救助人数。")
    rows = [["年份", "城乡低保对象", "特困供养人员"], ["2022年", "151.3万人", "9.6万人"], ["2023年", "147.8万人", "10.2万人"]]
    x, y, w, h = 72, 740, 150, 24
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            c.rect(x + j * w, y - (i + 1) * h, w, h)
            c.drawString(x + j * w + 6, y - (i + 1) * h + 8, v)
    c.showPage()
    c.save()
    return path


def test_table_rows_keep_their_header(tmp_path):
    (tmp_path / "t.html").write_text(TABLE_HTML, encoding="utf-8")
    for p in (tmp_path / "t.html", make_table_docx(tmp_path / "t.docx"), make_table_pdf(tmp_path / "t.pdf")):
        text = read_document(p).text
        rows = [line for line in text.split("\n") if line.startswith(("2022年", "2023年", "2021年"))]
        assert len(rows) == 2, (p.name, text)
        assert all(line.count(" | ") == 4 and line.endswith("。") for line in rows), rows
    assert "2023年 | 社会工作者总数 | 9.29万人 | 持证社会工作者 | 1.93万人。" in read_document(tmp_path / "t.html").text
    assert read_document(tmp_path / "t.pdf").text.count("147.8万人") == 1  # the table once, as rows


@pytest.mark.slow
@pytest.mark.parametrize("query,source,row", [
    ("四川省2023年社会工作者总数是多少", "四川表.html", "2023年 | 社会工作者总数 | 9.29万人"),
    ("湖北2021年养老机构床位有多少张", "湖北表.docx", "2021年 | 养老机构床位 | 41.2万张"),
    ("甘肃2023年特困供养人员多少人", "甘肃表.pdf", "2023年 | 城乡低保对象 | 147.8万人 | 特困供养人员 | 10.2万人"),
])
def test_a_cells_figure_puts_its_row_first_with_its_header(tmp_path_factory, embedder, query, source, row):
    from qa.app.api import search
    from tests.conftest import build_index

    base = tmp_path_factory.getbasetemp() / "tables"
    if not (base / "index").exists():
        (base / "corpus").mkdir(parents=True, exist_ok=True)
        (base / "corpus" / "四川表.html").write_text(TABLE_HTML, encoding="utf-8")
        make_table_docx(base / "corpus" / "湖北表.docx")
        make_table_pdf(base / "corpus" / "甘肃表.pdf")
        build_index(base / "corpus", base / "index", embedder)
    hits = search(query, k=3, index=base / "index")
    top = hits[0]
    assert top.source == source and row in top.text, [(h.source, h.text[:60]) for h in hits]
    assert row.split(" | ")[0] in top.answer and row.split(" | ")[-1] in top.answer, top.answer
