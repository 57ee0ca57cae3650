"""A fake embedder for logic that does not need the real model: deterministic vectors made from
the text itself (hashed character bigrams and Latin words), so texts that share characters are
close and every run gives the same vectors.  It has what the build and the search ask of an
embedder (``model_id``, ``prefixes``, ``dim``, ``backend``, ``embed_passages``,
``embed_queries``) and loads nothing."""

from __future__ import annotations

import hashlib
import re

import numpy as np

_LATIN = re.compile(r"[a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u9fff]+")


def features(text: str) -> list[str]:
    text = text.lower()
    out = _LATIN.findall(text)
    for run in _CJK.findall(text):
        out += [run[i:i + 2] for i in range(len(run) - 1)] or [run]
    return out


class FakeEmbedder:
    model_id = "fake:hashed-bigrams"
    prefixes = {"query": "", "passage": ""}
    backend = "fake"
    dim = 64

    def __init__(self):
        self.calls = 0  # texts embedded, so a test can tell cache hits from model work

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for f in features(text):
            h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        n = float(np.linalg.norm(v))
        if n == 0:
            v[0], n = 1.0, 1.0
        return v / n

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        self.calls += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)
