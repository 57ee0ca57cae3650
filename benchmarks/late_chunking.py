"""Late chunking measured against encoding each sentence on its own (issue 30).

    python benchmarks/late_chunking.py

A build gives every sentence an e5 vector (the fusion's sentence list and the highlight read them):
today each sentence is encoded on its own ("passage: " + its article's headline + the sentence).
"Late chunking" would take them from the passage's own forward pass: the mean of the last layer's
token states over each sentence's span.  This script scores both on the dev questions, with the
sentences the build cuts (qa.text.sentences) and the int8 model:

* within-passage@1: for each passage holding a key of the question, is its sentence most similar
  to the question one holding a key (what the highlight's similarity term decides);
* corpus-sentence@1: is the most similar sentence of the whole corpus one holding a key (what the
  sentence list ranks).

Variants of the late vector: the span's mean; with the tokens before the text (prefix, headline);
the span's mean minus a share of the passage's mean (the context common to every sentence).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.settings import Settings  # noqa: E402 - a benchmark is an edge: it reads the environment

EVAL = ROOT.parent / "shared" / "eval"
SETS = [("xquad-dev", EVAL / "xquad-dev" / "corpus", [EVAL / "xquad-dev" / "questions_zh.jsonl",
                                                      EVAL / "xquad-dev" / "questions_en.jsonl"]),
        ("seed dev + extra", ROOT / "corpus", [EVAL / "dev.jsonl", ROOT / "benchmarks" / "extra_questions.jsonl"])]


def load(corpus: Path, files: list[Path]):
    from qa.ingest.chunk import chunk_document
    from qa.ingest.read import list_corpus, read_document

    chunks = [c for p in list_corpus(corpus) for c in chunk_document(read_document(p, p.relative_to(corpus).as_posix(),
                                                                                   root=corpus))]
    qs = [json.loads(line) for f in files for line in open(f, encoding="utf-8")]
    return chunks, [q for q in qs if q.get("keys")]


def hidden(st, enc) -> np.ndarray:
    ids = np.array([enc.ids], dtype=np.int64)
    return st.session(st.threads).run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                             "token_type_ids": np.zeros_like(ids)})[0][0]


def sentence_vectors(embedder, chunks) -> tuple[list[tuple[int, str]], dict[str, np.ndarray]]:
    from qa.text.sentences import sentences
    from qa.text.variants import simplified

    prefix, st = embedder.prefixes["passage"], embedder.st
    rows, alone, span, whole, head = [], [], [], [], []
    for ci, c in enumerate(chunks):
        text, et = simplified(c.text), c.embed_text
        shift = len(prefix) + len(et) - len(text)
        title = simplified(c.title) if c.title else ""
        enc = st.tokenizer.encode(prefix + et)
        h = hidden(st, enc)
        starts, ends = np.array([a for a, _ in enc.offsets]), np.array([b for _, b in enc.offsets])
        real = ends > starts
        before = ~real | (ends <= shift)
        for a, b in sentences(text):
            rows.append((ci, text[a:b]))
            alone.append(f"{title}\n{text[a:b]}" if title else text[a:b])
            take = real & (starts < b + shift) & (ends > a + shift)
            span.append(h[take].mean(0) if take.any() else h.mean(0))
            head.append(h[take | before].mean(0) if take.any() else h.mean(0))
            whole.append(h.mean(0))
    norm = lambda x: np.asarray(x) / np.linalg.norm(np.asarray(x), axis=1, keepdims=True)  # noqa: E731
    span, whole = np.asarray(span), np.asarray(whole)
    out = {"alone (today)": embedder.embed_passages(alone), "late: span": norm(span), "late: span + head": norm(head)}
    for share in (0.3, 0.6):
        out[f"late: span - {share} x passage"] = norm(span - share * whole)
    return rows, out


def score(embedder, corpus: Path, files: list[Path]) -> dict:
    from qa.text.variants import simplified

    chunks, qs = load(corpus, files)
    rows, variants = sentence_vectors(embedder, chunks)
    qv = embedder.embed_queries([q["q"] for q in qs])
    owner = np.array([r[0] for r in rows])
    res = {}
    for name, vecs in variants.items():
        within = top = n = 0
        for q, v in zip(qs, qv):
            keys = [simplified(k) for k in q["keys"]]
            holds = np.array([any(k in s for k in keys) for _, s in rows])
            if not holds.any():
                continue
            n += 1
            sims = vecs @ v
            passages = sorted(set(owner[holds].tolist()))
            within += sum(holds[np.argmax(np.where(owner == p, sims, -9))] for p in passages) / len(passages)
            top += holds[np.argmax(sims)]
        res[name] = {"questions": n, "within_passage@1": round(within / n, 3), "corpus_sentence@1": round(top / n, 3)}
    return res


def main() -> int:
    from qa.app.api import Index

    embedder = Index.embedder_for(Settings.from_env())
    print("| questions | sentence vectors | within-passage@1 | corpus-sentence@1 |\n|---|---|---|---|")
    for name, corpus, files in SETS:
        for variant, r in score(embedder, corpus, files).items():
            print(f"| {name} ({r['questions']}) | {variant} | {r['within_passage@1']:.3f} | {r['corpus_sentence@1']:.3f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
