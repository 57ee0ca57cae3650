"""Lexical side of the store: jieba tokens -> a sparse-matrix BM25 (bm25s).

The tokenizer is a plain function ``str -> list[str]`` (injected, as in rank_bm25), so
the same one serves indexing and queries.  Chinese is cut with jieba's search mode
(long words and their sub-words), Latin words are lower-cased, numbers kept whole.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Callable

import numpy as np

from qa.text.chars import HAN, jieba_ready
from qa.text.tokens import tokenize

Tokenizer = Callable[[str], list[str]]
LEXICAL_VERSION = 3  # bump when the tokens or the bridges change: part of the manifest, so an index is rebuilt

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
        col = r.vocab_dict.get(token) if r is not None else None
        if col is None:
            return 0.0
        indptr = r.scores["indptr"]
        df = int(indptr[col + 1]) - int(indptr[col])
        n = int(r.scores["num_docs"])
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def weighted_scores(self, weights: dict[str, float], n_docs: int) -> np.ndarray:
        """BM25 of every passage for a weighted query: sum over terms of weight x the term's
        precomputed BM25 column (bm25s's eager sparse scores).  A repeated query term is a
        weight of 2, as in bm25s's own get_scores."""
        out = np.zeros(n_docs, dtype=np.float32)
        r = self.retriever
        if r is None:
            return out
        sc = r.scores
        data, indices, indptr = sc["data"], sc["indices"], sc["indptr"]
        for t, w in weights.items():
            col = r.vocab_dict.get(t)
            if col is None or w <= 0:
                continue
            a, b = int(indptr[col]), int(indptr[col + 1])
            out[indices[a:b]] += np.float32(w) * data[a:b]
        return out

    def scores(self, tokens: list[str], n_docs: int) -> np.ndarray:
        if self.retriever is None:
            return np.zeros(n_docs, dtype=np.float32)
        known = [t for t in tokens if t in self.retriever.vocab_dict]
        if not known:
            return np.zeros(n_docs, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)


# --------------------------------------------------------------------------- cross-lingual bridge

_CJK_TERM = re.compile(f"^[{HAN}]{{2,4}}$")
_ADMIN_SUFFIX = "省市县区州镇乡村"


def vocabulary(index: "BM25Index") -> list[str]:
    return list(index.retriever.vocab_dict) if index.retriever is not None else []


NAME_TAGS = {"nr", "ns", "nt", "nz", "nrt", "nrfg"}


def name_terms(terms: list[str]) -> list[str]:
    """The corpus terms that are names, which the pinyin bridge may reach: a place of the
    division list (qa/text/lexicon.py), a word jieba's dictionary tags as a name (nr, ns, nt, nz), or
    a word it does not know at all (found by jieba's HMM: mostly names of people and small
    places).  我们 (tagged r) is not a name, so "Women" cannot become it."""
    from qa.text import lexicon

    jieba_ready()
    import jieba.posseg

    tags = jieba.posseg.dt.word_tag_tab
    known = lexicon.places().by_name
    return [t for t in terms if t in known or tags.get(t) in NAME_TAGS or t not in tags]


def pinyin_bridge(terms: list[str]) -> dict[str, list[str]]:
    """Toneless pinyin of the corpus's own 2-4 character name terms -> the terms ("jiuquan" ->
    酒泉, 酒泉市), so that a romanised place or person name in a query finds the
    characters.  Derived from the corpus vocabulary; nothing is listed by hand."""
    from pypinyin import Style, lazy_pinyin

    bridge: dict[str, set[str]] = {}
    for t in terms:
        if not _CJK_TERM.match(t):
            continue
        key = "".join(lazy_pinyin(t, style=Style.NORMAL)).lower()
        bridge.setdefault(key, set()).add(t)
        if len(t) >= 3 and t[-1] in _ADMIN_SUFFIX:  # 酒泉市 -> "jiuquan" too
            bridge.setdefault("".join(lazy_pinyin(t[:-1], style=Style.NORMAL)).lower(), set()).add(t)
    return {k: sorted(v) for k, v in bridge.items()}


_TERM = re.compile(f"^[{HAN}]{{2,6}}$")



def bridge_terms(terms: list[str]) -> list[str]:
    """The corpus terms worth a cross-lingual vector: Chinese words of 2-6 characters."""
    return [t for t in terms if _TERM.match(t)]
