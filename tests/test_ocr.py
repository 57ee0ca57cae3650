"""Scanned bulletins through OCR (issue 29): images and PDF pages without a text layer are read by
RapidOCR's ONNX build in the reading worker, in reading order (two columns), cached by file hash,
each passage with its page, its outline and an OCR mark; a page over the limits is named and
skipped while the rest of the file, and the build, go on.  Real OCR, real worker."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from qa.ingest.read import IngestError, read_document
from qa.settings import Settings

pytest.importorskip("rapidocr_onnxruntime")

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LEFT = ["近日，酒泉市民政局召开", "社会工作推进会，全市持证", "社会工作者达到一千二百人。"]
RIGHT = ["云南省昆明市城市社区养老", "服务站覆盖率达到百分之八", "十五，新增互助点三百个。"]


def page_image(columns: list[list[str]], size=(1000, 360), font_px=30):
    """A clean page of text columns side by side (WenQuanYi Micro Hei)."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", size, 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, font_px)
    width = (size[0] - 80) // len(columns)
    for c, lines in enumerate(columns):
        for i, line in enumerate(lines):
            d.text((40 + c * width, 40 + i * int(font_px * 1.8)), line, font=font, fill=0)
    return img


def image_pdf_page(img) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "PDF", resolution=100.0)
    return buf.getvalue()


def text_pdf_page(lines: list[str]) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 12)
    for i, line in enumerate(lines):
        c.drawString(72, 760 - 20 * i, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def join_pdf(path: Path, pages: list[bytes]) -> Path:
    import pypdf

    w = pypdf.PdfWriter()
    for data in pages:
        for p in pypdf.PdfReader(io.BytesIO(data)).pages:
            w.add_page(p)
    with open(path, "wb") as f:
        w.write(f)
    return path


def cached_settings(tmp_path, **changes) -> Settings:
    return Settings().replace(cache=str(tmp_path / "cache"), **changes)


def test_image_is_read_in_column_order_cited_by_page_and_cached(tmp_path):
    p = tmp_path / "scan.png"
    page_image([LEFT, RIGHT]).save(p)
    s = cached_settings(tmp_path)
    seen = []
    doc = read_document(p, settings=s, chunking=(500, 100), progress=lambda d, t: seen.append((d, t)))
    text = doc.text
    assert "一千二百人" in text and "百分之八十五" in text, text
    assert text.index("一千二百人") < text.index("云南省昆明市"), text  # the left column first, whole
    assert "酒泉市民政局召开社会工作推进会" in text  # lines joined, no spaces between characters
    assert seen[-1] == (1, 1)
    c = doc.chunks[0]
    assert (c.page_start, c.page_end, c.ocr) == (1, 1, True)
    (page, x0, y0, x1, y1), = c.boxes
    assert page == 1 and 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    # a second read takes the page from the cache (marked here), never OCRs it again
    cache = list((tmp_path / "cache" / "ocr").rglob("1.json"))
    assert len(cache) == 1
    rows = json.loads(cache[0].read_text(encoding="utf-8"))
    rows[0]["text"] = "缓存里的一行记号。"
    cache[0].write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    again = read_document(p, settings=s, chunking=(500, 100))
    assert "缓存里的一行记号" in again.text


def test_mixed_pdf_gives_passages_from_text_and_scanned_pages(tmp_path):
    text1 = ["宁夏银川市开展困境儿童关爱行动，", "为一千六百名困境儿童建立个案档案。"]
    text3 = ["湖北省民政厅提出，", "到二〇二五年全省社会工作专业人才总量达到八万人。"]
    p = join_pdf(tmp_path / "mixed.pdf", [text_pdf_page(text1), image_pdf_page(page_image([LEFT, RIGHT])),
                                          text_pdf_page(text3)])
    doc = read_document(p, settings=cached_settings(tmp_path), chunking=(60, 0))
    assert doc.meta["ocr_pages"] == [2]

    def where(needle):
        c = next(c for c in doc.chunks if needle in c.text)
        return c.page_start, c.page_end, c.ocr

    assert where("一千六百名") == (1, 1, False)
    assert where("一千二百人") == (2, 2, True)
    assert where("百分之八十五") == (2, 2, True)
    assert where("八万人") == (3, 3, False)


def test_scanned_page_over_the_time_limit_is_named_and_the_rest_kept(tmp_path):
    big = page_image([LEFT * 12, RIGHT * 12], size=(1654, 2339), font_px=34)  # an A4 page at 200 dpi
    p = join_pdf(tmp_path / "slow.pdf", [text_pdf_page(["宁夏银川市为一千六百名困境儿童建立个案档案。"]),
                                         image_pdf_page(big)])
    doc = read_document(p, settings=cached_settings(tmp_path, read_seconds=4.0))
    assert "一千六百名" in doc.text
    assert doc.meta.get("ocr_pages") is None
    (why,) = doc.meta["skipped_pages"]
    assert why.startswith("page 2: OCR took longer than the 4 s limit"), why


def test_scan_over_the_memory_limit_is_named_and_skipped(tmp_path):
    p = tmp_path / "photo.png"
    page_image([LEFT]).save(p)
    with pytest.raises(IngestError, match=r"photo\.png: .*page 1: OCR needs more memory"):
        read_document(p, settings=cached_settings(tmp_path, ocr_memory_mb=700, read_memory_mb=700))
    # (a mixed PDF's text page kept while its scanned page is skipped for memory is not asserted
    # here: on some installs the PDF's own reading needs more than 700 MB before any OCR, so the
    # whole file is skipped, named; the build test below covers "named, skipped, nothing else lost")


@pytest.mark.slow
def test_build_names_a_scan_over_its_limit_and_loses_no_other_file(tmp_path, monkeypatch, embedder):
    from tests.conftest import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seed = sorted((Path(__file__).resolve().parent.parent / "corpus").glob("*.txt"))[0]
    (corpus / seed.name).write_bytes(seed.read_bytes())
    page_image([LEFT * 12, RIGHT * 12], size=(1654, 2339), font_px=34).save(corpus / "scan.png")
    page_image([RIGHT]).save(corpus / "photo.jpg")
    monkeypatch.setenv("BULLETIN_QA_CACHE", str(tmp_path / "cache"))
    read_document(corpus / "photo.jpg", settings=Settings.from_env())  # OCR'd once, without a tight limit: cached
    monkeypatch.setenv("BULLETIN_QA_READ_SECONDS", "6")
    report = build_index(corpus, tmp_path / "index", embedder)
    skipped = "\n".join(report.skipped)
    assert "scan.png" in skipped and "took longer than the 6 s limit" in skipped, skipped
    assert report.files == 2  # the seed text and the small photo (from the OCR cache)
    from qa.index.folder import StoredIndex

    rows = StoredIndex.load(tmp_path / "index").passages
    assert {r["source"] for r in rows} == {seed.name, "photo.jpg"}
    assert all(r["ocr"] and r["page_start"] == 1 for r in rows if r["source"] == "photo.jpg")


def test_a_photo_can_be_uploaded_and_a_fake_one_is_refused(tmp_path):
    """The page's upload takes a scan (its check reads it by OCR, which caches it for the build)."""
    from qa.ingest.corpus import Corpus

    buf = io.BytesIO()
    page_image([LEFT]).save(buf, "PNG")
    c = Corpus(tmp_path / "corpus", settings=cached_settings(tmp_path))
    ok, msg = c.add("照片.png", buf.getvalue())
    assert ok, msg
    ok, msg = c.add("假图.png", b"not an image at all")
    assert not ok and "not a readable image" in msg
