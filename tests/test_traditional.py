"""Traditional Chinese (qa/text/variants.py): questions and bulletins in Traditional characters are
matched like Simplified ones, and a citation quotes the original characters.  First the converter
(no model), then qa.search on the real seed index and on a real build of a bulletin converted to
Traditional by OpenCC's own Simplified-to-Traditional tables."""

from __future__ import annotations

import shutil
import unicodedata

import pytest

from qa.text.tokens import bigrams, tokenize
from qa.text.variants import is_traditional, simplified

from conftest import SEEDS, build_index


def test_a_traditional_question_reads_as_simplified_character_for_character():
    q = "湖北社會工作專業人才總量目標"
    assert is_traditional(q) and simplified(q) == "湖北社会工作专业人才总量目标"
    assert len(simplified(q)) == len(q)
    assert tokenize(q) == tokenize("湖北社会工作专业人才总量目标")
    assert bigrams(q) == bigrams("湖北社会工作专业人才总量目标")


@pytest.mark.parametrize("text", ["湖北社会工作专业人才总量目标", "乾隆年间于此", "显著提高", "How many social workers?", ""])
def test_a_simplified_or_latin_text_is_left_as_it_is(text):
    assert not is_traditional(text) and simplified(text) == text


def test_every_seed_bulletin_reads_as_simplified_so_nothing_of_them_changes():
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert simplified(text) == text, path.name


def test_a_traditional_question_answers_with_the_8_wan_passage(seed_index):
    """Issue 28: "湖北社會工作專業人才總量目標" was refused ("no bulletin mentions 社會, 專業, 總量")."""
    from qa import search

    _, index = seed_index
    r = search("湖北社會工作專業人才總量目標", k=5, index=index)
    assert r.answered, r.reason
    assert "8万人" in r[0].text and "8万人" in r[0].answer
    simple = search("湖北社会工作专业人才总量目标", k=5, index=index)
    assert [p.text for p in r] == [p.text for p in simple]


@pytest.fixture(scope="module")
def traditional_corpus(tmp_path_factory):
    """Two seed bulletins, the Hubei plan converted to Traditional (OpenCC s2t), indexed."""
    import opencc

    root = tmp_path_factory.mktemp("trad")
    corpus = root / "corpus"
    corpus.mkdir()
    hubei = next(SEEDS.glob("000_*.txt"))
    (corpus / "hubei_trad.txt").write_text(opencc.OpenCC("s2t").convert(hubei.read_text(encoding="utf-8")),
                                           encoding="utf-8")
    other = next(SEEDS.glob("002_*.txt"))
    shutil.copy(other, corpus / other.name)
    build_index(corpus, root / "index")
    return corpus, root / "index"


def test_a_traditional_bulletin_is_found_by_a_simplified_question_and_quoted_as_written(traditional_corpus):
    from qa import search

    corpus, index = traditional_corpus
    r = search("湖北社会工作专业人才总量目标是多少", k=3, index=index)
    assert r.answered, r.reason
    top = r[0]
    assert top.source == "hubei_trad.txt"
    written = (corpus / "hubei_trad.txt").read_text(encoding="utf-8")
    flat = "".join(top.text.split())
    assert flat in "".join(written.split()) and is_traditional(flat)  # the original characters, not converted
    assert "8萬人" in unicodedata.normalize("NFKC", top.answer)
    assert search("湖北社會工作專業人才總量目標", k=1, index=index)[0].text == top.text
