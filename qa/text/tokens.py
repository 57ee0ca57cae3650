"""Tokens: the one tokenizer of passages and questions (jieba's search mode for Chinese, Latin
words lower-cased, numbers whole) and character bigrams.  Indexing and queries call the same
functions, so a question is cut as its passages were."""

from __future__ import annotations

import re
import unicodedata
from typing import Callable

from qa.text.chars import CJK, jieba_ready
from qa.text.variants import simplified

_STOP = set(
    "的 了 和 与 及 或 是 在 对 为 将 把 被 等 之 其 这 那 也 都 而 并 从 以 于 由 向 中 上 下 个 有 要 "
    "a an the of to in on for and or is are was were be by with at as from that this which what how "
    "many much who whom whose when where why does do did has have had it its their there".split()
)
_WORD = re.compile(rf"[a-z]+(?:['’][a-z]+)?|\d+(?:\.\d+)?%?|[{CJK}]+")

def _tokens(text: str, cut: Callable[[str], list[str]]) -> list[str]:
    """NFKC, lower case, Simplified characters (qa/text/variants.py); Latin words and numbers whole
    (stop words out), each Chinese run cut by ``cut``."""
    out: list[str] = []
    for m in _WORD.finditer(simplified(unicodedata.normalize("NFKC", text)).lower()):
        w = m.group(0)
        if w[0].isascii():
            if w not in _STOP:
                out.append(w)
        else:
            out.extend(cut(w))
    return out


def tokenize(text: str) -> list[str]:
    jieba = jieba_ready()
    return _tokens(text, lambda run: [t for t in jieba.cut_for_search(run, HMM=True) if t not in _STOP])


def bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of each Chinese run (a one-character run stays whole),
    Latin words and numbers as in :func:`tokenize`.  Indexing Chinese by bigrams is the
    standard remedy for segmentation mismatch (Nie et al. 2000; Kwok 1997): a question and a
    passage that jieba cuts differently (one word in the passage, two in the question) still
    share their bigrams."""
    return _tokens(text, lambda run: [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
_EN_STOP = _STOP | set("between about than per also any all can could should would will may might into onto over "
                       "under up down out its our your his her they them we you i me my one".split())
