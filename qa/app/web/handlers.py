"""What the page's events do, apart from Gradio: search and answer (HTML or the endpoints'
results), the rebuild with its progress, and the page's reads of the live index."""

from __future__ import annotations

import math
from pathlib import Path

from qa.app.api import Index
from qa.app.web import i18n as qa_i18n
from qa.app.web.filters import filter_note
from qa.app.web.i18n import text
from qa.app.web.render import esc, missing_index_html, render_answer, render_cards, render_generated
from qa.index.base import IndexDamaged, IndexMissing
from qa.messages import Msg, of_exception
from qa.retrieve.retriever import bad_k


class BuildProgress:
    """One progress bar over a build's stages: reading files, embedding passages and sentences
    (on a worker thread, while this one builds the word index), writing.  ``report`` is the
    ``progress(stage, done, total)`` callback of ``qa.build``; ``bar(fraction, desc)`` is
    Gradio's progress."""

    SPAN = {"read": (0.0, 0.15), "embed": (0.15, 0.6), "embed sentences": (0.6, 0.88), "write": (0.9, 1.0)}

    def __init__(self, bar, lang: str):
        self.bar, self.lang = bar, lang
        self.state: dict[str, tuple[int, int]] = {}
        self.at = 0.0

    def report(self, stage: str, done: int, total: int) -> None:
        self.state[stage] = (done, total)
        if stage in self.SPAN:
            a, b = self.SPAN[stage]
            self.at = max(self.at, a + (b - a) * (done / total if total else 1.0))
        if self.bar is not None:
            self.bar(min(self.at, 0.99), desc=self.describe())

    def describe(self) -> str:
        parts = []
        embed = [s for s in ("embed sentences", "embed") if s in self.state]
        if "write" in self.state:
            return text("stage_write", self.lang)
        if embed:
            d, t = self.state[embed[0]]
            parts.append(text("stage_" + embed[0].replace(" ", "_"), self.lang, d=d, t=t))
        elif "read" in self.state:
            d, t = self.state["read"]
            parts.append(text("stage_read", self.lang, d=d, t=t))
        lex = self.state.get("lexical")
        if lex is not None and lex[0] < lex[1]:
            parts.append(text("stage_lexical", self.lang))
        return " · ".join(parts) or text("starting", self.lang)


def run_search(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Index | None = None,
               regions=None, since=None, until=None, strictness: str = "normal") -> dict:
    """Passages plus the library's verdict (``answered``, ``reason``) from the page's ``index``
    (a qa.Index); ``regions`` / ``since`` / ``until``: the filters of ``qa.search``; ``strictness``:
    the verdict's (lenient, normal, strict)."""
    sources = list(sources) if sources else None
    passages = index.search(query, k=int(k), mode=mode, sources=sources,
                            regions=list(regions) if regions else None, since=since or None, until=until or None,
                            strictness=strictness or "normal")
    return {"passages": passages, "similarity": [p.similarity for p in passages],
            "answered": passages.answered, "reason": passages.reason,
            "listing": getattr(passages, "listing", False), "items": getattr(passages, "items", ())}


def ask(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Index | None = None, lang: str = "en",
        regions=None, since=None, until=None, corpus: Path | None = None, strictness: str = "normal") -> tuple[str, str]:
    """HTML of the answer and of the passage cards (errors become a message, never a crash), in
    ``lang`` ("en" or "zh"); ``regions`` / ``since`` / ``until`` filter and ``strictness`` judges
    like ``qa.search``."""
    try:
        result = run_search(query, k, mode, sources, index, regions, since, until, strictness)
    except IndexMissing:
        return missing_index_html(index.describe(), lang), ""
    except IndexDamaged as e:
        return f'<div class="qa-answer qa-none">{qa_i18n.text("damaged", lang, e=esc(index.redact(e)))}</div>', ""
    except (ValueError, TypeError) as e:
        return f'<div class="qa-answer qa-none">{esc(index.redact(qa_i18n.say(of_exception(e), lang)))}</div>', ""
    note = filter_note(lambda: run_search(query, k, mode, None, index, strictness=strictness), result, index,
                       sources, regions, since, until, lang)
    return render_answer(query, result, lang) + note, render_cards(result, index, lang, corpus)


def search_api_result(query: str, k: int = 5, mode: str = "hybrid", sources=None, index=None,
                      regions=None, since=None, until=None, strictness: str = "normal") -> list[dict]:
    result = run_search(query, k, mode, sources, index, regions, since, until, strictness)
    out = []
    for p, sim in zip(result["passages"], result["similarity"]):
        d = p.to_dict()
        d["similarity"] = sim
        d["answered"] = d["answers"] = result["answered"]  # "answers": the key's first name, kept
        d["reason"] = str(result["reason"] or "")
        d["reason_code"] = getattr(result["reason"], "code", "")
        out.append(d)
    return out


def ask_llm(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Index | None = None, llm=None,
            lang: str = "en", corpus: Path | None = None, **where):
    """Like :func:`ask`, for the page with a model: yields (answer HTML, cards HTML) as the
    model's checked sentences arrive; the cards come with the first yield.  ``where``: regions,
    since, until, strictness (``qa.search``'s)."""
    sources = list(sources) if sources else None
    try:
        parts = index.stream_answer(query, int(k), llm=llm, stream=True, mode=mode, sources=sources, **where)
        first = next(parts)
    except IndexMissing:
        yield missing_index_html(index.describe(), lang), ""
        return
    except IndexDamaged as e:
        yield f'<div class="qa-answer qa-none">{qa_i18n.text("damaged", lang, e=esc(index.redact(e)))}</div>', ""
        return
    except (ValueError, TypeError) as e:
        yield f'<div class="qa-answer qa-none">{esc(index.redact(qa_i18n.say(of_exception(e), lang)))}</div>', ""
        return
    result = {"passages": first.passages, "similarity": [p.similarity for p in first.passages],
              "answered": first.answered, "reason": first.reason,
              "listing": getattr(first.passages, "listing", False), "items": getattr(first.passages, "items", ())}
    cards = render_cards(result, index, lang, corpus)
    note = filter_note(lambda: run_search(query, k, mode, None, index, strictness=where.get("strictness", "normal")),
                       result, index, sources, where.get("regions"), where.get("since"), where.get("until"), lang)
    yield render_generated(query, first, result, lang) + note, cards
    for a in parts:
        yield render_generated(query, a, result, lang) + note, cards


def answer_api_result(query: str, k=5, mode: str = "hybrid", sources=None, index=None, llm=None,
                      strictness: str = "normal") -> dict:
    """``qa.answer()`` for the ``/answer`` endpoint: ``Answer.to_dict()``."""
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not math.isfinite(k) or k != int(k):
        raise ValueError(bad_k(k))
    if sources is not None and (not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)):
        raise ValueError(f"sources must be a list of file names (or null for all), not {sources!r}")
    return index.answer(query, int(k), llm=llm, mode=mode, sources=sources or None,
                        strictness=strictness or "normal").to_dict()


def rebuild_index(corpus: Path, index: Index, from_scratch: bool = False, progress=None, lang: str = "en") -> list[Msg]:
    """Build ``index`` (a qa.Index) from ``corpus``; ``progress(fraction, desc=...)`` follows the
    stage that takes the time (qa.app.web.render.BuildProgress).  The message: its lines, each a
    Msg (``qa_i18n.say`` gives the page's language; the page shows it as text, through
    ``index.redact``)."""
    report = BuildProgress(progress, lang).report

    try:
        Path(corpus).mkdir(parents=True, exist_ok=True)
        rep = index.build(corpus, rebuild=bool(from_scratch), progress=report, wait=0)
    except (RuntimeError, FileNotFoundError, OSError, ValueError) as e:
        return [Msg("build.failed", "✗ not rebuilt: {e}", "✗ 未重建：{e}", e=of_exception(e))]
    return [Msg("build.done", "✓ index rebuilt: {summary}", "✓ 索引已重建：{summary}", summary=rep.summary())] + [
        ("⚠ ", s) for s in rep.skipped]


def status_html(index: Index, lang: str = "en") -> str:
    """The banner: how to build the index when there is none."""
    return "" if index.has_live() else missing_index_html(index.describe(), lang)


WARM_QUERY = "社会工作 social work"  # any question: it only has to run every part of a search once


def warm(index: Index) -> None:
    """Run one search at start, so that the first reader's question does not wait for what the
    first search loads: the index, both models, jieba's dictionary and the places lexicon (10.8 s
    of a first model-written answer in issue 31, of which the model took ~0.4 s).  A failure here
    is the first question's to report."""
    try:
        if index.has_live():
            index.search(WARM_QUERY, k=1)
    except (IndexDamaged, OSError, ValueError, RuntimeError):
        pass
