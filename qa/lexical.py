"""Lexical side of the store: jieba tokens -> a sparse-matrix BM25 (bm25s).

The tokenizer is a plain function ``str -> list[str]`` (injected, as in rank_bm25), so
the same one serves indexing and queries.  Chinese is cut with jieba's search mode
(long words and their sub-words), Latin words are lower-cased, numbers kept whole.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path
from typing import Callable

import numpy as np

Tokenizer = Callable[[str], list[str]]

_STOP = set(
    "的 了 和 与 及 或 是 在 对 为 将 把 被 等 之 其 这 那 也 都 而 并 从 以 于 由 向 中 上 下 个 有 要 "
    "a an the of to in on for and or is are was were be by with at as from that this which what how "
    "many much who whom whose when where why does do did has have had it its their there".split()
)
_WORD = re.compile(r"[a-z]+(?:['’][a-z]+)?|\d+(?:\.\d+)?%?|[\u3400-\u9fff\uf900-\ufaff]+")

_jieba = None


def _get_jieba():
    global _jieba
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba


def tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    jieba = _get_jieba()
    out: list[str] = []
    for m in _WORD.finditer(text):
        w = m.group(0)
        if w[0].isascii():
            if w not in _STOP:
                out.append(w)
            continue
        out.extend(t for t in jieba.cut_for_search(w, HMM=True) if t not in _STOP)
    return out


class BM25Index:
    """bm25s over pre-tokenised passages; scores every passage with sparse-matrix ops."""

    def __init__(self, retriever=None, tokenizer: Tokenizer = tokenize):
        self.retriever = retriever
        self.tokenizer = tokenizer

    @classmethod
    def build(cls, texts: list[str], tokenizer: Tokenizer = tokenize) -> "BM25Index":
        import bm25s

        r = bm25s.BM25()
        tokens = [tokenizer(t) or ["<empty>"] for t in texts]
        if tokens:
            r.index(tokens, show_progress=False)
        return cls(r if tokens else None, tokenizer)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.retriever is not None:
            self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer = tokenize, mmap: bool = False) -> "BM25Index":
        import bm25s

        if not (folder / "params.index.json").exists():
            return cls(None, tokenizer)
        return cls(bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False), tokenizer)

    def idf(self, token: str) -> float:
        r = self.retriever
        if r is None or token not in r.vocab_dict:
            return 0.0
        col = r.vocab_dict[token]
        df = r.scores["indptr"][col + 1] - r.scores["indptr"][col]
        n = r.scores["num_docs"]
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def scores(self, tokens: list[str], n_docs: int) -> np.ndarray:
        if self.retriever is None:
            return np.zeros(n_docs, dtype=np.float32)
        known = [t for t in tokens if t in self.retriever.vocab_dict]
        if not known:
            return np.zeros(n_docs, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)
