"""Deterministic synthetic data for the benchmarks, all derived from the seed bulletins.

* :func:`write_bulletins` — N bulletins (``.txt``) built from the seeds' own headlines and
  sentences with a seeded RNG: same seed, same files, byte for byte.  With ``vary_names``, each
  sentence's names (places, people, organisations: jieba's tags ns, nr, nt, nz) and one noun in
  five are swapped for words of the same tag drawn from jieba's dictionary by its frequencies, so
  the vocabulary grows with the archive as a real one's does (the archive benchmark).
* :func:`synth_vectors` — n L2-normalised vectors shaped like real ones: each is a real
  sentence vector of a seed passage plus a perturbation drawn from the real vectors' own
  principal directions (their spectrum, scaled) plus a little isotropic noise.  So the
  synthetic set has the anisotropy and low intrinsic dimension of real embeddings instead
  of being uniform on the sphere (which no ANN index — and no real corpus — looks like).
* :func:`synth_tokens` — token lists drawn from the seed corpus's jieba unigram frequencies.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEEDS = ROOT / "corpus"


def seed_material(corpus: Path = SEEDS) -> tuple[list[str], list[str]]:
    """(headlines, sentences) of the seed bulletins, in file order, de-duplicated."""
    from qa.ingest.chunk import chunk_document
    from qa.text.sentences import sentences
    from qa.ingest.read import list_corpus, read_document

    titles, sents = [], []
    for p in list_corpus(corpus):
        for c in chunk_document(read_document(p, p.name)):
            if c.title and c.title not in titles:
                titles.append(c.title)
            for a, b in sentences(c.text):
                s = c.text[a:b].strip()
                if len(s) >= 8 and s not in sents:
                    sents.append(s)
    return titles, sents


def _vary(sentence: str, rng: np.random.Generator) -> str:
    """Change the numbers of a sentence, so synthetic bulletins are not copies of each other."""
    return re.sub(r"\d+", lambda m: str(int(rng.integers(1, 10 ** min(len(m.group(0)), 4)))), sentence)


NAME_TAGS = ("ns", "nr", "nt", "nz")
NOUN_SHARE = 0.2  # the share of common nouns (tag n) swapped too, with vary_names


class Lexicon:
    """jieba's dictionary by part-of-speech tag, with cumulative frequencies to draw from."""

    def __init__(self, tags=NAME_TAGS + ("n",)):
        import jieba

        by: dict[str, tuple[list[str], list[int]]] = {t: ([], []) for t in tags}
        path = Path(jieba.__file__).parent / "dict.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2] in by and len(parts[0]) >= 2:
                by[parts[2]][0].append(parts[0])
                by[parts[2]][1].append(int(parts[1]))
        self.words = {t: w for t, (w, _) in by.items()}
        self.cum = {t: np.cumsum(np.asarray(f, dtype=np.float64)) for t, (_, f) in by.items()}

    def draw(self, tag: str, rng: np.random.Generator) -> str:
        cum = self.cum[tag]
        return self.words[tag][int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))]


def tagged(sentences: list[str]) -> list[list[tuple[str, str]]]:
    import jieba.posseg

    from qa.text.chars import jieba_ready

    jieba_ready()
    return [[(w.word, w.flag) for w in jieba.posseg.cut(s)] for s in sentences]


def _swap(words: list[tuple[str, str]], lexicon: Lexicon, rng: np.random.Generator) -> str:
    out = []
    for w, tag in words:
        if tag in NAME_TAGS or (tag == "n" and rng.random() < NOUN_SHARE):
            w = lexicon.draw(tag, rng)
        out.append(w)
    return "".join(out)


def write_bulletins(out: Path, n: int = 1000, seed: int = 0, start: int = 0, corpus: Path = SEEDS,
                    vary_names: bool = False) -> list[Path]:
    """Write bulletins ``syn_<start>.txt`` .. ``syn_<start+n-1>.txt`` into ``out``: a headline, then
    6-16 sentences (numbers varied; names too with ``vary_names``), then a credit line.  Bulletin
    i depends only on (seed, i)."""
    titles, sents = seed_material(corpus)
    lexicon = Lexicon() if vary_names else None
    words = tagged(sents) if vary_names else None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        rng = np.random.default_rng([seed, i])
        title = titles[int(rng.integers(len(titles)))] if titles else f"第{i}期简报"
        picks = rng.integers(len(sents), size=int(rng.integers(6, 17)))
        body = [_vary(_swap(words[int(j)], lexicon, rng) if lexicon else sents[int(j)], rng) for j in picks]
        paras, cur = [], []
        for s in body:
            cur.append(s)
            if len(cur) >= int(rng.integers(2, 5)):
                paras.append("".join(cur))
                cur = []
        if cur:
            paras.append("".join(cur))
        text = f"{title}（第{i + 1}期）\n" + "\n".join(paras) + f"\n（据合成简报第{i + 1}期）\n"
        path = out / f"syn_{i:06d}.txt" if vary_names or i >= 100_000 else out / f"syn_{i:05d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def synth_vectors(real: np.ndarray, n: int, seed: int = 0, spread: float = 0.5, noise: float = 0.02,
                  chunk: int = 100_000) -> np.ndarray:
    """n normalised float32 vectors: real[i] + spread * (a draw from the real vectors' covariance)
    + isotropic noise.  Deterministic in (real, n, seed)."""
    real = np.asarray(real, dtype=np.float64)
    m, d = real.shape
    mu = real.mean(axis=0)
    _, s, vt = np.linalg.svd(real - mu, full_matrices=False)
    basis = (s[:, None] / np.sqrt(m)) * vt  # rows: principal directions scaled by their std
    out = np.empty((n, d), dtype=np.float32)
    for a in range(0, n, chunk):
        rng = np.random.default_rng([seed, a])
        b = min(n, a + chunk)
        src = real[rng.integers(m, size=b - a)]
        z = rng.standard_normal((b - a, len(s)))
        v = src + spread * (z @ basis) + noise * rng.standard_normal((b - a, d))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out[a:b] = v
    return out


def synth_tokens(token_lists: list[list[str]], n: int, seed: int = 0, length: tuple[int, int] = (40, 120)) -> list[list[str]]:
    """n token lists drawn from the unigram frequencies of ``token_lists`` (the seed passages'
    jieba tokens), with a Zipf-like tail of rare synthetic terms so the vocabulary grows with n."""
    from collections import Counter

    counts = Counter(t for ts in token_lists for t in ts)
    vocab = np.array(list(counts))
    p = np.array([counts[t] for t in vocab], dtype=np.float64)
    p /= p.sum()
    rng = np.random.default_rng(seed)
    lens = rng.integers(length[0], length[1] + 1, size=n)
    total = int(lens.sum())
    ids = rng.choice(len(vocab), size=total, p=p)
    rare = rng.zipf(1.5, size=total)  # ~10% of the tokens: rare terms t<k>
    use_rare = rng.random(total) < 0.1
    toks = np.where(use_rare, np.char.add("t", rare.astype(str)), vocab[ids])
    out, pos = [], 0
    for ln in lens:
        out.append(toks[pos:pos + ln].tolist())
        pos += ln
    return out
