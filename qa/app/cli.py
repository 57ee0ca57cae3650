"""Present stage, command line: ``bulletin-qa index | search | ask | eval | serve``."""

from __future__ import annotations

import argparse
import json
import logging
import sys



def _progress_bar():
    from tqdm import tqdm

    bars = {}

    def progress(stage: str, done: int, total: int):
        bar = bars.get(stage)
        if bar is None or done < bar.n or total != bar.total:  # a new file's OCR pages: a new bar
            bar = bars[stage] = tqdm(total=total, desc={"read": "reading files", "embed": "embedding passages", "embed sentences": "embedding sentences",
                                                          "lexical": "word index", "write": "writing", "ocr": "OCR pages"}.get(stage, stage),
                                     unit={"read": "file", "ocr": "page"}.get(stage, "passage"), leave=False, file=sys.stderr)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


def _index(args):
    """The Index of ``--index`` / ``--corpus`` with the settings ``main`` read."""
    from qa.app.api import Index

    return Index(args.index, corpus=getattr(args, "corpus", None), settings=args.settings)


def cmd_index(args) -> int:
    if args.ray:
        args.settings = args.settings.replace(ray=args.ray)
    with _index(args) as idx:
        report = idx.build(rebuild=args.rebuild, model=args.model, ensemble=args.ensemble,
                           progress=None if args.quiet else _progress_bar(), wait=None if args.wait else 0,
                           device=args.device)  # the onnx-int8 backend is CPU-only: another device means torch
    for msg in report.skipped + report.warnings:
        print(f"warning: {msg}", file=sys.stderr)
    print(f"indexed {idx.corpus} -> {idx.describe()}: {report.summary()}")
    return 0


def cmd_search(args) -> int:
    with _index(args) as idx:
        passages = idx.search(args.query, k=args.k, mode=args.mode, sources=args.source or None,
                              regions=args.region or None, since=args.since, until=args.until,
                              strictness=args.strictness)
    if args.json:
        print(json.dumps(passages.to_dict(), ensure_ascii=False, indent=1))
        return 0
    if not passages:
        print("no passage found")
    elif not passages.answered:
        print(f"not answered: {passages.reason}\nthe nearest passages (not an answer):\n")
    else:
        print("answered\n")
    for p in passages:
        print(f"[{p.rank}] {p.source}  lines {p.start_line}-{p.end_line}  score {p.score:.4f}"
              + (f"  {p.region}" if p.region else ""))
        print(f"    {p.citation}")
        text = p.text
        for s, e in sorted(p.marks or ([p.highlight] if p.highlight else []), reverse=True):
            text = f"{text[:s]}【{text[s:e]}】{text[e:]}"
        print("    " + text.replace("\n", "\n    "))
        print()
    return 0


def _llm(args):
    """The model of --llm-url / --llm-model / --llm-timeout, else the environment's (None: no model).
    The key only from BULLETIN_QA_LLM_API_KEY: a key on the command line is seen by ps and the shell history."""
    from qa.generate.llm import llm_settings

    return llm_settings(args.llm_url, args.llm_model, timeout=args.llm_timeout, settings=args.settings)


def cmd_ask(args) -> int:
    with _index(args) as idx:
        a = idx.answer(args.query, k=args.k, llm=_llm(args), mode=args.mode, strictness=args.strictness)
    if args.json:
        print(json.dumps(a.to_dict(), ensure_ascii=False, indent=1))
        return 0
    if not a.passages:
        print("no passage found")
    elif not a.answered:
        print(f"not answered: {a.reason}")
    else:
        print(a.text)
        for n, p in sorted(a.citations.items()):
            print(f"  [{n}] {p.citation}")
        for c in a.unsupported:
            print(f"  ✗ struck out: {c.sentence}  ({c.reason})")
        print(f"({'written by ' + a.model + ', checked' if a.generated else 'the answering sentence of the best passage'})")
    if a.note and a.answered and not a.note.startswith("no model configured"):
        print(f"note: {a.note}")
    return 0


def cmd_eval(args) -> int:
    from qa.app.eval import main as eval_main

    return eval_main(args)


def cmd_serve(args) -> int:
    from qa.app.web import server as ui

    return ui.main(["--host", args.host, "--port", str(args.port)]
                   + (["--corpus", args.corpus] if args.corpus else [])
                   + (["--index", args.index] if args.index else [])
                   + (["--llm-url", args.llm_url] if args.llm_url else [])
                   + (["--llm-model", args.llm_model] if args.llm_model else [])
                   + (["--llm-timeout", str(args.llm_timeout)] if args.llm_timeout else []), settings=args.settings)


def build_parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per task, each option declared once.  Over 60 lines
    because it is a list of declarations, not logic: split, a command's options would be scattered."""
    p = argparse.ArgumentParser(prog="bulletin-qa", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    def folders(sp):
        sp.add_argument("--corpus", help="bulletin folder (default: corpus/ or $BULLETIN_QA_CORPUS)")
        sp.add_argument("--index", help="index folder, or a PostgreSQL URL postgresql://… (default: index/ or "
                                        "$BULLETIN_QA_INDEX)")

    def strictness_option(sp):
        sp.add_argument("--strictness", choices=("lenient", "normal", "strict"), default="normal",
                        help="how close a passage must be to count as an answer: lenient keeps 99%% of the "
                             "answerable dev questions, strict refuses every off-topic one (qa/calibration.json)")

    def llm_options(sp):
        sp.add_argument("--llm-url", help="OpenAI-compatible base URL of your model, e.g. http://127.0.0.1:11434/v1 "
                                          "(default: $BULLETIN_QA_LLM_URL; none: no model, no network)")
        sp.add_argument("--llm-model", help="the model's name (default: $BULLETIN_QA_LLM_MODEL, else the first "
                                            "the endpoint lists); the key is read from $BULLETIN_QA_LLM_API_KEY")
        sp.add_argument("--llm-timeout", type=float, help="seconds to wait for the model (default 30 or "
                                                          "$BULLETIN_QA_LLM_TIMEOUT)")

    sp = sub.add_parser("index", help="build or update the index (only new or changed files are embedded)")
    folders(sp)
    sp.add_argument("--rebuild", action="store_true", help="ignore the existing index and rebuild everything")
    sp.add_argument("--model", help="sentence-transformers model name or path (default: the bundled e5-small)")
    sp.add_argument("--wait", action="store_true", help="wait for a running build instead of refusing")
    sp.add_argument("--ensemble", action=argparse.BooleanOptionalAction, default=None,
                    help="also store the second model's passage and sentence vectors and search with them "
                         "(costs a second query embedding per search; default: keep what the index has, off for a new one)")
    sp.add_argument("--device", help="torch device for embedding, e.g. cuda (default: cpu or $BULLETIN_QA_DEVICE)")
    sp.add_argument("--ray", metavar="auto|ADDRESS|local",
                    help="read and embed on a Ray cluster: auto (this machine's), host:port, or local (one of "
                         "this build's own); the index is the one a local build makes (default: $BULLETIN_QA_RAY, "
                         "else here; needs the [cluster] extra)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sp.set_defaults(func=cmd_index)

    sp = sub.add_parser("search", help="print the passages that answer QUERY")
    sp.add_argument("query")
    sp.add_argument("-k", type=int, default=5, help="number of passages (1-100)")
    sp.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp.add_argument("--region", action="append", metavar="PLACE",
                    help="only articles about this province/prefecture/county or within it (湖北, 酒泉); repeatable")
    sp.add_argument("--since", metavar="DATE", help="only articles dated on or after (YYYY, YYYY-MM or YYYY-MM-DD)")
    sp.add_argument("--until", metavar="DATE", help="only articles dated on or before")
    sp.add_argument("--source", action="append", metavar="FILE", help="only passages of this file; repeatable")
    strictness_option(sp)
    folders(sp)
    sp.set_defaults(func=cmd_search)

    sp = sub.add_parser("ask", help="the answer to QUERY in words: written by your model over the passages and "
                                    "checked against them, else the best passage's answering sentence")
    sp.add_argument("query")
    sp.add_argument("-k", type=int, default=5, help="number of passages (1-100)")
    sp.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    sp.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    strictness_option(sp)
    llm_options(sp)
    folders(sp)
    sp.set_defaults(func=cmd_ask)

    sp = sub.add_parser("eval", help="hit@1, hit@5, MRR and the verdict of each retrieval mode on question files")
    sp.add_argument("file", nargs="+", help="JSONL with id, q, keys (and optional mode: any|all); rows without "
                                          "keys are near misses the verdict should refuse; a file with a corpus/ "
                                          "folder beside it is asked against that corpus")
    sp.add_argument("--misses", action=argparse.BooleanOptionalAction, default=True,
                    help="list the questions not at rank 1 and the wrong verdicts")
    sp.add_argument("-k", type=int, default=5)
    sp.add_argument("--json", metavar="OUT", help="write the figures to this JSON file")
    sp.add_argument("--modes", default="dense,lexical,hybrid,naive")
    sp.add_argument("--ablation", action="store_true",
                    help="also the hybrid without each of its parts: each ranked list, bridge, verdict rule and reading")
    sp.add_argument("--off-topic", action="store_true",
                    help="ask each corpus's questions of the other corpus (the bulletin sets of the xquad corpus "
                         "given, the xquad sets of the bulletins) and print the share refused per language")
    sp.add_argument("--answers", action="store_true",
                    help="evaluate the answers instead of the retrieval: the share whose every sentence passed the "
                         "check and the share containing a key (with your model; without one, the extractive answers)")
    llm_options(sp)
    folders(sp)
    sp.set_defaults(func=cmd_eval)

    sp = sub.add_parser("serve", help="open the question page")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=7860)
    llm_options(sp)
    folders(sp)
    sp.set_defaults(func=cmd_serve)
    return p


class _Redacting(logging.Filter):
    """Log records without passwords (the CLI's handlers)."""

    def __init__(self, hide):
        super().__init__()
        self.hide = hide

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.hide(record.getMessage()), None
        return True


def main(argv: list[str] | None = None) -> int:
    """The command: the environment is read here, once (``Settings.from_env``), and handed down."""
    from qa.index.base import IndexDamaged
    from qa.settings import Settings

    args = build_parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    for handler in logging.getLogger().handlers:  # jieba and bm25s set their own loggers to DEBUG;
        handler.setLevel(level)  # their records reach this handler and must meet its level
    settings = Settings()

    def hide(text) -> str:  # no password of the index URL (argument or environment), nor of the settings
        return settings.redact(str(text), getattr(args, "index", None) or "")

    for handler in logging.getLogger().handlers:  # one filter per handler, this run's
        for old in [f for f in handler.filters if isinstance(f, _Redacting)]:
            handler.removeFilter(old)
        handler.addFilter(_Redacting(hide))
    try:
        args.settings = settings = Settings.from_env()  # a malformed number: a ValueError naming the variable
        return args.func(args)
    except (ValueError, TypeError) as e:
        print(f"error: {hide(e)}", file=sys.stderr)
        return 2
    except (IndexDamaged, OSError, RuntimeError) as e:  # OSError: FileNotFoundError, a full disk...
        print(f"error: {hide(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
