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
