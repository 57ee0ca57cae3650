"""``bulletin-qa eval FILE.jsonl [FILE.jsonl ...]``: one table, each question set x retrieval mode.

A question with ``keys`` (``{"id", "q", "keys", "mode"?}``) is answered at rank r when the
r-th passage, NFKC-normalised with whitespace removed, contains one of its keys; with
``"mode": "all"`` every key must appear somewhere in the top k (and the rank is where the
last one appears).  For those the table gives hit@1, hit@k, MRR and the share the verdict
recognises as answered, and ``answer@1``: the share of the answerable questions whose first
card's marked sentence holds a key (all of them with ``"mode": "all"``), what the page shows
as the answer (``sentence@1`` counts only the questions whose first passage holds one).
A question without ``keys`` (a near miss the corpus does not
answer; ``absent`` lists what it lacks) counts as refused when the verdict says not
answered, and its reason is checked for naming what is absent.

A set whose folder holds a ``corpus/`` folder (``xquad-dev/questions_en.jsonl`` beside
``xquad-dev/corpus/``) is asked against an index of that corpus, built (incrementally)
under the cache folder; the others against ``--index`` / ``--corpus`` (the default index).

``--answers`` evaluates the answers instead (``qa.answer()``, with the model of ``--llm-url`` /
``BULLETIN_QA_LLM_URL``; without one, the extractive answers): the share of the model's answers
whose every sentence passed the check, the share of answerable questions whose answer text
contains a key, and the share whose cited passages contain one.

``--ablation`` adds the hybrid with each of its parts left out (``hybrid-no-<part>``): each ranked
list and bridge (qa/retrieve/lists.py) and each rule and reading of the verdict
(qa/retrieve/verdict.py).  A part of the verdict alone changes no ranking: its row re-judges the
hybrid's passages.  ``--off-topic`` asks each set of the *other* corpus (a set with its own corpus
of the bulletins, the others of the first own corpus among the files) and prints the share the
verdict refuses, per language of the question.
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
    """Rows with ``q`` and either ``keys`` (answerable) or no keys (a near miss, unanswerable)."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
            assert isinstance(q, dict) and isinstance(q["q"], str)
            assert isinstance(q.setdefault("keys", []), list)
        except (ValueError, KeyError, AssertionError) as e:
            raise ValueError(f"{path}:{n}: expected a JSON object with q (and keys, unless unanswerable) ({e!r})") from None
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

        from qa.ingest.read import decode_bytes, list_corpus

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
    """Figures of one question set on one index (a ``qa.Index``, or its location: an Index of the
    environment's settings), for each mode; ``corpus``: the naive baseline's (default: the Index's)."""
    from qa.app.api import Index

    index = index if isinstance(index, Index) else Index(index)
    answerable = [q for q in questions if q["keys"]]
    near_misses = [q for q in questions if not q["keys"]]
    results: dict = {"k": k, "questions": len(questions), "answerable": len(answerable),
                     "unanswerable": len(near_misses), "modes": {}, "misses": {}, "verdicts": {}}
    cache: dict = {}  # question -> the hybrid's run and ranking, for the verdict's ablations
    for mode in modes:
        t0 = time.perf_counter()
        if mode == "naive":
            base = NaiveBaseline(Path(corpus) if corpus else index.corpus, index.retriever.embedder)
            t0 = time.perf_counter()
            runs = [(base.search(q["q"], k), None, None) for q in questions]
        else:
            runs = mode_runs(index, questions, mode, k, cache)
        ms = 1000 * (time.perf_counter() - t0) / max(1, len(questions))
        by_id = {q["id"]: run for q, run in zip(questions, runs)}
        ranks = [answer_rank(q, by_id[q["id"]][0]) for q in answerable]
        figs = (figures(ranks, k) if answerable else {}) | {"ms_per_query": ms}
        if mode != "naive" and answerable:  # answer@1: of all answerable questions
            held = [sentence_holds(q, by_id[q["id"]][2]) for q in answerable]
            figs["answer@1"] = sum(held) / len(answerable)
            figs["answer@1 first mark"] = sum(sentence_holds(q, (by_id[q["id"]][2] or [None])[:1])
                                              for q in answerable) / len(answerable)
            figs["two marks"] = sum(len(by_id[q["id"]][2] or ()) > 1 for q in answerable) / len(answerable)
            results.setdefault("answer_misses", {})[mode] = [
                {"id": q["id"], "q": q["q"], "rank": r, "sentence": by_id[q["id"]][2]}
                for q, r, ok in zip(answerable, ranks, held) if not ok]
        firsts = [q for q, r in zip(answerable, ranks) if r == 1]
        if mode != "naive" and firsts:
            wrong = [q for q in firsts if not sentence_holds(q, by_id[q["id"]][2])]
            figs["sentence@1"] = 1 - len(wrong) / len(firsts)
            results.setdefault("sentence_misses", {})[mode] = [
                {"id": q["id"], "q": q["q"], "sentence": by_id[q["id"]][2]} for q in wrong]
        if mode != "naive":
            verdicts = [by_id[q["id"]][1] for q in answerable]
            if answerable:
                figs["recognised"] = sum(1 for a, _ in verdicts if a) / len(answerable)
            refused = [(q, by_id[q["id"]][1]) for q in near_misses]
            if near_misses:
                figs["refused"] = sum(1 for _, (a, _r) in refused if not a) / len(near_misses)
                figs["refused_naming"] = sum(1 for q, (a, r) in refused if not a and names_absent(q, r)) / len(near_misses)
            results["verdicts"][mode] = (
                [{"id": q["id"], "q": q["q"], "answered": a, "reason": r} for q, (a, r) in refused if a]
                + [{"id": q["id"], "q": q["q"], "answered": a, "reason": r}
                   for q, (a, r) in zip(answerable, verdicts) if not a])
        results["modes"][mode] = figs
        results["misses"][mode] = [{"id": q["id"], "q": q["q"], "rank": r}
                                   for q, r in zip(answerable, ranks) if r != 1]
    return results


def mode_runs(index, questions: list[dict], mode: str, k: int, cache: dict) -> list[tuple]:
    """(passage texts, (answered, reason), marked sentences) of each question in one mode; a
    verdict part's ablation re-judges the hybrid's passages (``rejudged``)."""
    base_mode, without = mode, frozenset()
    if mode.startswith("hybrid-no-"):
        base_mode, without = "hybrid", frozenset({mode.removeprefix("hybrid-no-")})
    if without and without <= VERDICT_ONLY:
        return [rejudged(index, q["q"], k, without, cache) for q in questions]
    runs = []
    for q in questions:
        hits = index.search(q["q"], k=k, mode=base_mode, without=without)
        runs.append(([p.text for p in hits], (hits.answered, hits.reason), hits[0].answers if hits else None))
        if mode == "hybrid":
            cache.setdefault(q["q"], {})["run"] = runs[-1]
    return runs


def _verdict_only() -> frozenset:
    """The verdict's parts that change no ranking: its rules, and the readings it applies itself
    (``name_any_word`` and ``county`` change how the question is understood, so its passages)."""
    from qa.retrieve import verdict

    return frozenset(verdict.PARTS) - {x.name for x in verdict.READINGS if x.where != "verdict"}


VERDICT_ONLY = _verdict_only()


def rejudged(index, q: str, k: int, without: frozenset, cache: dict):
    """The hybrid's passages for ``q`` (searched once per question) judged with ``without``."""
    from qa.retrieve.verdict import judge

    seen = cache.setdefault(q, {})
    if "ranking" not in seen:
        seen["ranking"] = index.retriever.search(q, k)
    if "run" not in seen:
        hits = index.search(q, k=k)
        seen["run"] = ([p.text for p in hits], (hits.answered, hits.reason), hits[0].answers if hits else None)
    store, ranking = seen["ranking"]
    v = judge(q, ranking, store, store.manifest["settings"]["model"],
              synonym=lambda word: index.retriever.has_synonym(store, word), without=without)
    texts, _verdict, sentence = seen["run"]
    return texts, (v.answered, v.reason), sentence


def sentence_holds(question: dict, sentence: "str | list[str] | None") -> bool:
    """Does the highlighted sentence (or one of the marked ones, a list) hold the fact: one of
    the question's keys (all of them, among the marks, for a question whose keys are ``mode: all``)?"""
    marks = [norm(s) for s in ([sentence] if isinstance(sentence, str) else sentence or []) if s]
    if not marks:
        return False
    keys = [norm(k) for k in question["keys"]]
    if question.get("mode") == "all":
        return all(any(k in m for m in marks) for k in keys)
    return any(k in m for k in keys for m in marks)


def names_absent(question: dict, reason: str) -> bool:
    """Does a refusal's reason name what the question asks for and the corpus lacks?"""
    absent = question.get("absent") or []
    return not absent or any(a in reason for a in absent)


def own_corpus(path: Path) -> Path | None:
    """The corpus a question set brings with it: a ``corpus/`` folder beside the file."""
    c = Path(path).resolve().parent / "corpus"
    return c if c.is_dir() else None


def eval_index_path(corpus: Path, settings) -> Path:
    """Where the index of a question set's own corpus is kept: under the cache folder of
    ``settings`` (qa.settings.Settings)."""
    import hashlib

    return settings.cache_dir / "eval-index" / hashlib.sha256(str(corpus).encode()).hexdigest()[:16]


def index_for(corpus: Path, settings):
    """A ``qa.Index`` of a question set's own corpus (rebuilt incrementally: unchanged files are
    not read again, and passages already embedded come from its embedding cache), with
    ``settings`` (qa.settings.Settings: its cache folder holds the index)."""
    from qa.app.api import Index

    index = Index(eval_index_path(corpus, settings), corpus=corpus, settings=settings)
    index.build(wait=None)
    return index


def table(sets: list[tuple[str, dict]]) -> str:
    k = sets[0][1]["k"] if sets else 5

    def pct(f, key):
        return f"{f[key]:.2f}" if key in f else "–"

    lines = [f"| set | mode | hit@1 | hit@{k} | MRR | sentence@1 | answer@1 | recognised | refused (naming it) | ms/query |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, results in sets:
        for mode, f in results["modes"].items():
            refused = f"{f['refused']:.2f} ({f['refused_naming']:.2f})" if "refused" in f else "–"
            mrr = f"{f['mrr']:.3f}" if "mrr" in f else "–"
            lines.append(f"| {name} | {mode} | {pct(f, 'hit@1')} | {pct(f, f'hit@{k}')} | {mrr} | "
                         f"{pct(f, 'sentence@1')} | {pct(f, 'answer@1')} | {pct(f, 'recognised')} | {refused} | {f['ms_per_query']:.0f} |")
    return "\n".join(lines)


def set_name(path: Path) -> str:
    p = Path(path)
    return f"{p.parent.name}/{p.stem}" if own_corpus(p) else p.stem


def evaluate_answers(questions: list[dict], k: int = 5, index=None, llm=None) -> dict:
    """Figures of the answers to one question set (``qa.answer()`` with ``llm``, see
    qa/generate/llm.py): ``sent`` = share of the questions sent to the model (the verdict lets
    through only those it judges answered); ``model_answers`` = how many replies had at least
    one sentence; ``all_passed`` = share of those whose every sentence passed the check;
    ``with_key`` = share of the answerable questions whose answer text (what is shown: the
    model's checked sentences, or the extractive sentence) contains a key; ``cites_key`` =
    share whose cited passages contain one."""
    from qa.app.api import Index

    index = index if isinstance(index, Index) else Index(index)
    rows = []
    for q in questions:
        a = index.answer(q["q"], k=k, llm=llm)
        rows.append({"id": q["id"], "q": q["q"], "keys": q["keys"], "answered": a.answered, "model": a.model,
                     "sent": bool(a.model), "generated": a.generated, "sentences": len(a.sentences),
                     "unsupported": [c.to_dict() for c in a.unsupported], "note": a.note, "text": a.text,
                     "with_key": bool(q["keys"]) and answer_rank(q, [a.text]) is not None,
                     "cites_key": bool(q["keys"]) and answer_rank(q, [p.text for p in a.citations.values()]) is not None})
    answerable = [r for r in rows if r["keys"]]
    replied = [r for r in rows if r["sentences"]]
    n = len(rows) or 1
    figs = {"questions": len(rows), "answerable": len(answerable), "model": next((r["model"] for r in rows if r["model"]), ""),
            "sent": sum(r["sent"] for r in rows) / n, "model_answers": len(replied),
            "all_passed": (sum(not r["unsupported"] for r in replied) / len(replied)) if replied else None,
            "with_key": sum(r["with_key"] for r in answerable) / (len(answerable) or 1),
            "cites_key": sum(r["cites_key"] for r in answerable) / (len(answerable) or 1)}
    return {"k": k, "figures": figs, "answers": rows}


def answers_table(sets: list[tuple[str, dict]]) -> str:
    lines = ["| set | answers by | questions | sent to the model | model answers | every sentence passed | "
             "contain a key | cite a passage with a key |", "|---|---|---|---|---|---|---|---|"]
    for name, results in sets:
        f = results["figures"]
        passed = f"{f['all_passed']:.2f}" if f["all_passed"] is not None else "–"
        lines.append(f"| {name} | {f['model'] or 'extractive'} | {f['questions']} | {f['sent']:.2f} | "
                     f"{f['model_answers']} | {passed} | {f['with_key']:.2f} | {f['cites_key']:.2f} |")
    return "\n".join(lines)


def answers_main(args, loaded: list[tuple[Path, list[dict]]]) -> int:
    from qa.generate.llm import llm_settings

    llm = llm_settings(getattr(args, "llm_url", None), getattr(args, "llm_model", None),
                       timeout=getattr(args, "llm_timeout", None), settings=args.settings)
    sets = []
    for f, questions in loaded:
        index = set_index(f, args)
        sets.append((set_name(f), evaluate_answers(questions, k=args.k, index=index, llm=llm)))
        print(f"{set_name(f)}: {len(questions)} questions answered from {f}", file=sys.stderr)
    print(answers_table(sets))
    for name, results in sets:
        failed = [r for r in results["answers"] if r["unsupported"] or (r["sent"] and not r["generated"])]
        if failed and args.misses:
            print(f"\n{name}: sentences that failed the check, and answers the model did not write")
            for r in failed:
                for c in r["unsupported"]:
                    print(f"  {r['id']}  ✗ {c['sentence']}  ({c['reason']})")
                if not r["generated"]:
                    print(f"  {r['id']}  note: {r['note']}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(sets), ensure_ascii=False, indent=1))
        print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


def ablation_modes(index) -> list[str]:
    """``hybrid-no-<part>`` for each part of the hybrid that ``index`` (a ``qa.Index``) has (the
    second model's lists only in an ensemble index)."""
    from qa.retrieve.retriever import ABLATIONS

    ensemble = index.store.has_second
    return [f"hybrid-no-{part}" for part in ABLATIONS if part != "second" or ensemble]


def off_topic(loaded: list[tuple[Path, list[dict]]], args) -> list[dict]:
    """Each set asked of the other corpus: a set with its own corpus (xquad-dev) of ``--index`` /
    ``--corpus`` (the bulletins), the others of the first own corpus among the files.  Rows:
    set, asked of, and per language ("en": a question under half Chinese) the questions and the
    share refused."""
    from qa.app.api import Index
    from qa.text.chars import zh_share

    other = next((own_corpus(f) for f, _ in loaded if own_corpus(f)), None)
    rows = []
    for f, questions in loaded:
        if own_corpus(f):
            index, where = Index(args.index, corpus=args.corpus, settings=args.settings), "the bulletins"
        elif other is not None:
            index, where = index_for(other, args.settings), f"{other.parent.name}/corpus"
        else:
            raise SystemExit("eval --off-topic: give a set with its own corpus (xquad-dev) to ask the others of")
        by_lang: dict[str, list[bool]] = {}
        for q in questions:
            r = index.search(q["q"], k=args.k)
            by_lang.setdefault("zh" if zh_share(q["q"]) >= 0.5 else "en", []).append(not r.answered)
        rows.append({"set": set_name(f), "asked_of": where,
                     **{lang: {"questions": len(v), "refused": sum(v) / len(v)} for lang, v in by_lang.items()}})
    return rows


def off_topic_table(rows: list[dict]) -> str:
    lines = ["| set | asked of | English refused | Chinese refused |", "|---|---|---|---|"]
    cell = lambda r, lang: f"{r[lang]['refused']:.3f} ({r[lang]['questions']})" if lang in r else "–"  # noqa: E731
    lines += [f"| {r['set']} | {r['asked_of']} | {cell(r, 'en')} | {cell(r, 'zh')} |" for r in rows]
    total = {lang: [r[lang] for r in rows if lang in r] for lang in ("en", "zh")}
    pooled = {lang: (sum(x["refused"] * x["questions"] for x in v) / sum(x["questions"] for x in v), sum(
        x["questions"] for x in v)) for lang, v in total.items() if v}
    lines.append("| all | | " + " | ".join(f"{pooled[lang][0]:.3f} ({pooled[lang][1]})" if lang in pooled else "–"
                                           for lang in ("en", "zh")) + " |")
    return "\n".join(lines)


def set_index(path: Path, args):
    """The ``qa.Index`` a question set is asked against: of its own corpus (``index_for``), else of
    ``--index`` / ``--corpus``, with the settings the command read (``args.settings``)."""
    from qa.app.api import Index

    corpus = own_corpus(path)
    if corpus:
        return index_for(corpus, args.settings)
    return Index(args.index, corpus=args.corpus, settings=args.settings)


def main(args) -> int:
    files = [Path(f) for f in args.file]
    loaded = [(f, load_questions(f)) for f in files]  # every file checked before any work
    if getattr(args, "answers", False):
        return answers_main(args, loaded)
    if getattr(args, "off_topic", False):
        rows = off_topic(loaded, args)
        print(off_topic_table(rows))
        if args.json:
            Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    sets = []
    for f, questions in loaded:
        corpus = own_corpus(f)
        index = set_index(f, args)
        set_modes = [m for m in modes if m != "naive" or any(q["keys"] for q in questions)]
        if args.ablation:  # the parts of the index this set is asked against (not the default one's)
            set_modes += ablation_modes(index)
        results = evaluate(questions, set_modes, k=args.k, index=index, corpus=index.corpus)
        results["file"], results["corpus"] = str(f), str(corpus or args.corpus or "")
        sets.append((set_name(f), results))
        print(f"{set_name(f)}: {len(questions)} questions ({results['answerable']} answerable, "
              f"{results['unanswerable']} not) from {f}", file=sys.stderr)
    print(table(sets))
    for name, results in sets:
        for mode, misses in results["misses"].items():
            if misses and args.misses:
                print(f"\n{name} · {mode}: not at rank 1")
                for m in misses:
                    print(f"  {m['id']}  rank {m['rank'] or '>' + str(args.k)}  {m['q']}")
        for m in results.get("answer_misses", {}).get("hybrid", []) if args.misses else []:
            print(f"  answer@1 miss {m['id']}  rank {m['rank'] or '>' + str(args.k)}  {m['q']}  -> {m['sentence']}")
        for mode, wrong in results["verdicts"].items():
            if wrong and args.misses and mode == "hybrid":
                print(f"\n{name} · {mode}: verdict wrong")
                for m in wrong:
                    print(f"  {m['id']}  {'answered' if m['answered'] else 'refused'}  {m['q']}  ({m['reason']})")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(sets), ensure_ascii=False, indent=1))
        print(f"\nwrote {args.json}", file=sys.stderr)
    return 0
