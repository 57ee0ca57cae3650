"""Text facts every stage shares (no project imports, so any stage may use them): the ranges of
Chinese characters, the Chinese share of a text, and jieba set up once."""

from __future__ import annotations

import logging
import re

HAN = "\u3400-\u4dbf\u4e00-\u9fff"  # CJK unified ideographs: extension A and the basic block
CJK = HAN + "\uf900-\ufaff"  # with the compatibility ideographs (NFKC maps most of them into HAN)
CJK_CHAR = re.compile(f"[{CJK}]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")


def zh_share(text: str) -> float:
    """Share of a text that is Chinese: CJK characters against Latin words (a word ~ 2 characters);
    0.0 for a text with neither."""
    cjk = len(CJK_CHAR.findall(text))
    words = len(_LATIN_WORD.findall(text))
    return cjk / (cjk + 2 * words) if cjk + words else 0.0


_jieba = None


def jieba_ready():
    """jieba, initialised once with its own stderr logging quietened (it logs at DEBUG)."""
    global _jieba
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba


# jieba's HMM (finalseg.viterbi) copies its best path at every character of a run of words it
# does not know, so one call costs the square of the run: an unpunctuated 2 MB file took minutes
# (issue 31, finding 7).  Texts of unbounded length go to jieba in pieces of at most JIEBA_PIECE
# characters, cut at a space or a punctuation mark where one is near, else every JIEBA_PIECE
# characters (a word cut there is lost; a sentence is far shorter than a piece).
JIEBA_PIECE = 256
_PIECE_BREAK = re.compile(r"[\s\u3000。！？；，、：,.!?;:()（）《》“”\"']")


def pieces(text: str, limit: int = JIEBA_PIECE):
    """(offset, piece) of ``text`` in pieces of at most ``limit`` characters, linear in its length."""
    n, i = len(text), 0
    while i < n:
        end = min(i + limit, n)
        if end < n:
            cut = None
            for m in _PIECE_BREAK.finditer(text, i + limit // 2, end):
                cut = m.end()
            end = cut or end
        yield i, text[i:end]
        i = end


def jieba_cut(text: str, **kw) -> list[str]:
    """``jieba.lcut(text, **kw)`` in linear time (:func:`pieces`)."""
    jieba = jieba_ready()
    return [w for _, p in pieces(text) for w in jieba.cut(p, **kw)]


def jieba_tokenize(text: str):
    """``jieba.tokenize(text)`` ((word, start, end)) in linear time (:func:`pieces`)."""
    jieba = jieba_ready()
    for off, p in pieces(text):
        for w, a, e in jieba.tokenize(p):
            yield w, off + a, off + e
