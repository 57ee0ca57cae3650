"""``bulletin-qa eval FILE.jsonl``: hit@1, hit@5 and MRR of each retrieval mode, side by side.

A question (``{"id", "q", "keys", "mode"?}``) is answered at rank r when the r-th passage,
NFKC-normalised with whitespace removed, contains one of its keys; with ``"mode": "all"``
every key must appear somewhere in the top k (and the rank is where the last one appears).
``--ablation`` adds the hybrid with each of its parts left out (``hybrid-no-<part>``).
``naive`` is the baseline a default LangChain pipeline gives: the default
``RecursiveCharacterTextSplitter`` (chunk_size 300, no Chinese separators), FAISS over the
same model without e5 prefixes or titles, no lexical side.
"""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def load_questions(path: Path) -> list[dict]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
            assert isinstance(q["q"], str) and isinstance(q["keys"], list) and q["keys"]
        except (ValueError, KeyError, AssertionError) as e:
            raise ValueError(f"{path}:{n}: expected a JSON object with q and keys ({e})") from None
        q.setdefault("id", str(n))
        out.append(q)
    return out


def answer_rank(question: dict, texts: list[str]) -> int | None:
    keys = [norm(k) for k in question["keys"]]
    texts = [norm(t) for t in texts]
    if question.get("mode") == "all":
        ranks = []
        for key in keys:
            r = next((i for i, t in enumerate(texts, 1) if key in t), None)
            if r is None:
                return None
            ranks.append(r)
        return max(ranks)
    return next((i for i, t in enumerate(texts, 1) if any(k in t for k in keys)), None)


def figures(ranks: list[int | None], k: int) -> dict:
    n = len(ranks) or 1
    return {"hit@1": sum(1 for r in ranks if r == 1) / n,
            f"hit@{k}": sum(1 for r in ranks if r is not None and r <= k) / n,
            "mrr": sum(1 / r for r in ranks if r is not None and r <= k) / n}


class NaiveBaseline:
    """Default splitter + FAISS + the same model, no prefixes, no titles, no lexical side."""

    def __init__(self, corpus: Path, embedder):
        import faiss
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from .ingest import decode_bytes, list_corpus

        splitter = RecursiveCharacterTextSplitter(chunk_size=300, chunk_overlap=30)
        self.texts = []
        for p in list_corpus(corpus):
            try:
                text, _ = decode_bytes(p.read_bytes(), p.name)
            except ValueError:
                continue
            self.texts += splitter.split_text(text)
        self.st = embedder.st
        vecs = self.st.encode(self.texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=16)
        self.index = faiss.IndexFlatIP(vecs.shape[1])
        self.index.add(np.ascontiguousarray(vecs, dtype=np.float32))

    def search(self, query: str, k: int) -> list[str]:
        q = self.st.encode([query], normalize_embeddings=True, convert_to_numpy=True)
        _, ids = self.index.search(np.ascontiguousarray(q, dtype=np.float32), k)
        return [self.texts[i] for i in ids[0] if i >= 0]


def evaluate(questions: list[dict], modes: list[str], k: int = 5, index=None, corpus=None) -> dict:
    from .api import _embedder, corpus_dir, get_retriever, search

    results: dict = {"k": k, "questions": len(questions), "modes": {}, "misses": {}}
    for mode in modes:
        t0 = time.perf_counter()
        if mode == "naive":
            base = NaiveBaseline(corpus_dir(corpus), get_retriever(index).embedder if index else _embedder(None))
            t0 = time.perf_counter()
            lists = [base.search(q["q"], k) for q in questions]
        elif mode.startswith("hybrid-no-"):
            part = frozenset({mode.removeprefix("hybrid-no-")})
            lists = [[p.text for p in search(q["q"], k=k, mode="hybrid", index=index, without=part)]
                     for q in questions]
        else:
            lists = [[p.text for p in search(q["q"], k=k, mode=mode, index=index)] for q in questions]
        ranks = [answer_rank(q, texts) for q, texts in zip(questions, lists)]
        results["modes"][mode] = figures(ranks, k) | {"ms_per_query": 1000 * (time.perf_counter() - t0) / max(1, len(questions))}
        results["misses"][mode] = [{"id": q["id"], "q": q["q"], "rank": r}
                                   for q, r in zip(questions, ranks) if r != 1]
    return results


def table(results: dict) -> str:
    k = results["k"]
    lines = [f"| mode | hit@1 | hit@{k} | MRR | ms/query |", "|---|---|---|---|---|"]
    for mode, f in results["modes"].items():
        lines.append(f"| {mode} | {f['hit@1']:.2f} | {f[f'hit@{k}']:.2f} | {f['mrr']:.3f} | {f['ms_per_query']:.0f} |")
    return "\n".join(lines)


def main(args) -> int:
    questions = load_questions(Path(args.file))
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.ablation:
        from .api import get_retriever
        from .retrieve import ABLATIONS

        ensemble = get_retriever(args.index).store.use_vectors is not None
        modes += [f"hybrid-no-{part}" for part in ABLATIONS if part != "second" or ensemble]
    results = evaluate(questions, modes, k=args.k, index=args.index, corpus=args.corpus)
    print(f"{len(questions)} questions from {args.file}\n")
    print(table(results))
    for mode, misses in results["misses"].items():
        if misses:
            print(f"\n{mode}: not at rank 1")
            for m in misses:
                print(f"  {m['id']}  rank {m['rank'] or '>' + str(args.k)}  {m['q']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))
        print(f"\nwrote {args.json}", file=sys.stderr)
    return 0
