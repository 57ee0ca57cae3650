"""Old Word files (qa/ingest/olddoc.py): a real Word 97 file is read, indexed and found; a
damaged one is named and skipped.  tests/data/jiuquan.doc is lines 118–160 of the seed bulletin
003 (the 酒泉 plan) saved as "MS Word 97" by LibreOffice 7.4 (`soffice --headless --convert-to
doc:"MS Word 97"`), committed because no reader here can write one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DOC = Path(__file__).parent / "data" / "jiuquan.doc"
pytestmark = pytest.mark.skipif(not (shutil.which("antiword") or shutil.which("catdoc")),
                                reason="needs antiword or catdoc (apt-get install antiword catdoc; .ci/run does)")


def test_a_word_97_file_is_read_in_the_worker(tmp_path):
    from qa.ingest.read import read_document

    (tmp_path / "酒泉社工简报.doc").write_bytes(DOC.read_bytes())
    doc = read_document(tmp_path / "酒泉社工简报.doc", root=tmp_path)
    text = "\n".join(b.text for b in doc.blocks)
    assert "800名以上" in text.replace(" ", "") and "酒泉市委社会工作部" in text
    assert doc.encoding.startswith("utf-8 (antiword") or doc.encoding.startswith("utf-8 (catdoc")


def test_a_doc_bulletin_is_indexed_and_answers_and_a_damaged_one_is_named(tmp_path, embedder, index_of):
    from tests.conftest import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DOC, corpus / "酒泉社工简报.doc")
    (corpus / "损坏.wps").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)  # an OLE header, no document
    report = build_index(corpus, tmp_path / "index", embedder)
    assert report.files == 1 and report.passages >= 1
    assert any("损坏.wps" in s and "cannot read" in s for s in report.skipped), report.skipped
    hits = index_of(tmp_path / "index", corpus=corpus).search("酒泉 持证社会工作者 总数 目标", k=3)
    assert hits[0].source == "酒泉社工简报.doc"
    assert "800" in hits[0].text
