"""Present stage, the question page: a Gradio app over the bulletin index (its parts that are
not wiring are in ``qa/page.py``; its words in ``qa/i18n.py``).

    bulletin-qa serve [--host 127.0.0.1] [--port 7860] [--corpus DIR] [--index DIR]
    python app.py ...                          (the same: app.py is a thin entry into ``main``)

Ask tab: a question, the best answering sentence with its citation, then every passage as a
card (rank, article, bulletin, region, date, issuer, file, lines, score, the answering sentence
marked, copy-citation, the original file, the whole article on demand).  When the library's
verdict (``qa.search()`` -> ``answered`` / ``reason``) says the passages do not answer, the page
says so and why, and shows the nearest passages as such; its strictness (lenient / normal /
strict) moves the verdict's similarity threshold to points measured on the dev sets.  Filters
by document, region and date; any change of an option runs the question again; CSV / Markdown
export.

Documents tab: the bulletins (a search box filtering them in the browser; each one's articles
with region, date and lines), upload (checked: extension, size, file name, readable content,
duplicate content), delete with confirmation, and "Rebuild index" with one progress bar.

Chinese first through gr.I18n; what the server writes follows the language the browser reported
on load.  The index is not built on start: with no index the page says how to build it.

How it is built: ``create_app`` lays out the two tabs (``ask_tab``, ``docs_tab``) into a
``Page`` (folders, model, components) and wires them (``wire_ask``, ``wire_api``,
``wire_upload``, ``wire_delete``, ``wire_rebuild_and_load``); ``launch`` adds the original-file
route (``serve_originals``).  The store's insides are read in ``live_passages`` and
``indexed_files`` only.

Named API endpoints (gradio_client): ``/search``, ``/documents``, ``/upload``,
``/add_document``, ``/delete``, ``/delete_selected``, ``/rebuild``; with a model configured also
``/answer``.  With ``--llm-url`` (or ``BULLETIN_QA_LLM_URL``) a model the user runs writes the
answer above the cards, streamed and checked sentence by sentence (``qa/generate.py``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import html
import io
import ipaddress
import os
import re
import sys
import threading
import unicodedata
import urllib.parse
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from . import settings as qa_settings  # importing qa sets the offline flags (qa.settings.offline)

import gradio as gr  # noqa: E402 - after the offline flags

from . import api as qa_api  # noqa: E402
from . import generate as qa_generate  # noqa: E402
from . import i18n as qa_i18n  # noqa: E402
from . import ingest as qa_ingest  # noqa: E402
from . import page as qa_page  # noqa: E402
from . import store as qa_store  # noqa: E402
from . import stores as qa_stores  # noqa: E402
from .files import file_sha256  # noqa: E402
from . import verdict as qa_verdict  # noqa: E402

EXAMPLES = [  # none of them is a question of the development set
    "甘肃酒泉 certified-worker goal",
    "湖北社会工作专业人才总量目标是多少",
    "What did Qiao Heng propose for social work?",
    "宣城 社会工作人才总量 2027年目标",
    "Ningxia: monthly allowance for certified community workers",
    "夹江县 开发了多少个社工岗位",
]
MODES = ["hybrid", "dense", "lexical"]

MAX_UPLOAD_BYTES = qa_settings.value("MAX_UPLOAD_BYTES")
BINARY_FORMATS = {".pdf": "PDF", ".docx": "Word"}
_BAD_NAME_CHARS = set('<>:"|?*\\/')

_corpus_lock = threading.Lock()
_caches: dict = {}


# --------------------------------------------------------------------------- answering


def run_search(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Path | None = None,
               regions=None, since=None, until=None, strictness: str = "normal") -> dict:
    """Passages plus the library's verdict (``answered``, ``reason``); ``regions`` / ``since`` /
    ``until``: the filters of ``qa.search``; ``strictness``: the verdict's (lenient, normal, strict)."""
    index = qa_api.index_dir(index)
    sources = list(sources) if sources else None
    passages = qa_api.search(query, k=int(k), mode=mode, index=index, sources=sources,
                             regions=list(regions) if regions else None, since=since or None, until=until or None,
                             strictness=strictness or "normal")
    return {"passages": passages, "similarity": [p.similarity for p in passages],
            "answered": passages.answered, "reason": passages.reason}


# --------------------------------------------------------------------------- articles


def merge_overlapping(texts: list[str], max_overlap: int = 400) -> str:
    """Join consecutive passages of one article, dropping the text they share."""
    out = ""
    for t in texts:
        if not out:
            out = t
            continue
        if t in out:
            continue
        n = 0
        for o in range(min(len(out), len(t), max_overlap), 0, -1):
            if out.endswith(t[:o]):
                n = o
                break
        out += t[n:] if n else "\n" + t
    return out


# --------------------------------------------------------------------------- the store, as the page reads it
# The page's only reads of the store's insides (its passages and its manifest's file list): a
# store of another kind (qa/store.py's interface) changes these two functions, nothing else here.


def live_passages(index: Path) -> list[dict]:
    """The live index's passages as dicts (text, source, title, start_line, end_line, article,
    doc_title, region, region_codes, date, issuer ...); [] when there is no readable index."""
    try:
        return qa_api.get_retriever(index).store.passages
    except qa_store.IndexDamaged:  # IndexMissing too
        return []


def indexed_files(index: Path) -> dict:
    """{file: {"title", "passages", "size", "sha256", "added"}} of the live index's manifest (the
    searched version's, so the table and the cards never disagree; no second load)."""
    try:
        return qa_api.get_retriever(index).store.manifest.get("files", {})
    except qa_store.IndexDamaged:
        return {}


def article_context(index: Path, source: str, article: int) -> tuple[str, str, int, int]:
    """(title, full text, first line, last line) of one article, from its passages."""
    passages = live_passages(index)
    cached = _caches.get("articles")
    if cached is None or cached[0] is not passages:  # one entry: the live version's passages
        groups: dict = {}
        for p in passages:
            groups.setdefault((p["source"], p.get("article", 0)), []).append(p)
        _caches["articles"] = cached = (passages, groups)
    group = cached[1].get((source, article), [])
    group = sorted(group, key=lambda p: (p.get("ordinal", 0), p["start_line"]))
    if not group:
        return "", "", 0, 0
    title = next((p["title"] for p in group if p.get("title")), "")
    return (title, merge_overlapping([p["text"] for p in group]),
            min(p["start_line"] for p in group), max(p["end_line"] for p in group))


# --------------------------------------------------------------------------- rendering

esc = html.escape


def marked(text: str, span) -> str:
    if not span:
        return esc(text)
    s, e = span
    return f"{esc(text[:s])}<mark>{esc(text[s:e])}</mark>{esc(text[e:])}"


ASKED_SHOWN = 200  # characters of the question echoed above the answer (a long one ends in …)


def asked_html(query: str, lang: str = "en") -> str:
    q = " ".join(str(query).split())
    shown = q if len(q) <= ASKED_SHOWN else q[:ASKED_SHOWN] + "…"
    return (f'<div class="qa-asked" title="{esc(q[:2000])}">{esc(qa_i18n.text("question_is", lang))}'
            f'{"：" if lang == "zh" else ": "}'
            f'<q>{esc(shown)}</q></div>')


def copy_button(p, lang: str = "en") -> str:
    """A button that puts the passage's citation on the clipboard (the page's script does it)."""
    return (f'<button type="button" class="qa-copy" data-citation="{esc(qa_page.cite(p, lang))}" '
            f'data-done="{esc(qa_i18n.text("copied", lang))}">{esc(qa_i18n.text("copy", lang))}</button>')


def render_answer(query: str, result: dict, lang: str = "en") -> str:
    passages = result["passages"]
    asked = asked_html(query, lang)
    if not passages:
        return f'<div class="qa-answer qa-none">{asked}<p>{qa_i18n.text("no_passage", lang)}</p></div>'
    top = passages[0]
    if result["answered"] is False:
        reason = esc(qa_i18n.translate(result["reason"], lang))
        return f'<div class="qa-answer qa-none">{asked}<p>{qa_i18n.text("not_answered", lang, reason=reason)}</p></div>'
    sentence = top.answer or top.text
    cite = qa_page.cite(top, lang) if lang == "zh" else top.citation
    return (f'<div class="qa-answer">{asked}<p class="qa-sentence">{esc(sentence)} '
            f'<a class="qa-cite" href="#qa-card-1" title="{esc(cite)}">[1]</a></p>'
            f'<div class="qa-citation">[1] {esc(qa_page.cite(top, lang))} {copy_button(top, lang)}</div></div>')


def render_cards(result: dict, index: Path, lang: str = "en", corpus: Path | None = None) -> str:
    """Every passage as a card: rank, article, bulletin, region, date, issuer, file, lines, score,
    the answering sentence marked, a copy-citation button, the original file (``corpus``: where
    it lies; a PDF opens at the passage's page) and the whole article on demand."""
    passages = result["passages"]
    if not passages:
        return ""
    t = qa_i18n.text
    nearest = result["answered"] is False
    out = []
    if nearest:
        out.append(f'<div class="qa-nearest-note">{esc(t("nearest_note", lang))}</div>')
    for p, sim in zip(passages, result["similarity"]):
        title, full, a, b = article_context(index, p.source, p.article)
        context = ""
        if full:
            pos = full.find(p.text)
            if pos >= 0:
                body = (f'{esc(full[:pos])}<span class="qa-here">{marked(p.text, p.highlight)}</span>'
                        f'{esc(full[pos + len(p.text):])}')
            else:
                body = esc(full)
            context = (f'<details class="qa-context"><summary>{esc(t("show_full", lang, source=p.source, a=a, b=b))}'
                       f'</summary><div class="qa-article">'
                       f'<div class="qa-article-title">{esc(title)}</div>{body}</div></details>')
        sim_txt = f' · {esc(t("similarity", lang, s=f"{sim:.3f}"))}' if sim is not None else ""
        badge = f'<span class="qa-badge">{esc(t("nearest_badge", lang))}</span>' if nearest else ""
        about = [(t("bulletin", lang), qa_page.bulletin_name(p)), (t("region", lang), p.region),
                 (t("date", lang), p.date), (t("issuer", lang), p.issuer)]
        about_html = "".join(f'<span class="qa-about-item"><span class="qa-about-key">{esc(key)}</span> '
                             f'{esc(val)}</span>' for key, val in about if val)
        pages = qa_page.pages_of(p)
        where = esc(t("lines", lang, a=p.start_line, b=p.end_line))
        if pages:
            where = esc(t("page", lang, p=pages)) + " · " + where
        link = ""
        if corpus is not None:  # the page's own route serves the file by its name in the corpus
            label = t("open_page", lang, p=p.page_start) if p.page_start else t("open_original", lang)
            link = (f'<a class="qa-open" href="{esc(qa_page.original_url(p.source, p.page_start))}" '
                    f'target="_blank" rel="noopener">{esc(label)}</a>')
        out.append(
            f'<div class="qa-card{" qa-card-nearest" if nearest else ""}" id="qa-card-{p.rank}">'
            f'<div class="qa-card-head"><span class="qa-rank">[{p.rank}]</span> '
            f'<span class="qa-title">{esc(p.title or t("untitled", lang))}</span>{badge}</div>'
            f'<div class="qa-about">{about_html}</div>'
            f'<div class="qa-meta"><span class="qa-filename">{esc(p.source)}</span> · {where} · '
            f'<span class="qa-score" title="{esc(score_title(p, lang))}">{esc(t("score", lang, s=f"{p.score:.2f}"))}'
            f'</span>{sim_txt}</div>'
            f'<div class="qa-text">{marked(p.text, p.highlight)}</div>'
            f'<div class="qa-actions">{copy_button(p, lang)}{link}</div>{context}</div>')
    out.append(f'<div class="qa-meta qa-score-note">{esc(t("score_note", lang))}</div>')
    return "\n".join(out)


def score_title(p, lang: str = "en") -> str:
    """The tooltip of a card's score: what 1.00 means, and the passage's rank in each list."""
    ranks = ", ".join(f"{name} #{r}" for name, r in sorted((p.ranks or {}).items(), key=lambda t: (t[1], t[0])))
    return qa_i18n.text("score_tip", lang) + (f" — {qa_i18n.text('ranks', lang)}: {ranks}" if ranks else "")


def ask(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Path | None = None, lang: str = "en",
        regions=None, since=None, until=None, corpus: Path | None = None, strictness: str = "normal") -> tuple[str, str]:
    """HTML of the answer and of the passage cards (errors become a message, never a crash), in
    ``lang`` ("en" or "zh"); ``regions`` / ``since`` / ``until`` filter and ``strictness`` judges
    like ``qa.search``."""
    index = qa_api.index_dir(index)
    try:
        result = run_search(query, k, mode, sources, index, regions, since, until, strictness)
    except qa_store.IndexMissing:
        return missing_index_html(index, lang), ""
    except qa_store.IndexDamaged as e:
        return f'<div class="qa-answer qa-none">{qa_i18n.text("damaged", lang, e=esc(str(e)))}</div>', ""
    except (ValueError, TypeError) as e:
        return f'<div class="qa-answer qa-none">{esc(qa_i18n.translate(str(e), lang))}</div>', ""
    return render_answer(query, result, lang), render_cards(result, index, lang, corpus)


def missing_index_html(index: Path, lang: str = "en") -> str:
    return f'<div class="qa-answer qa-none">{qa_i18n.text("missing_index", lang, index=esc(str(index)))}</div>'


def search_api_result(query: str, k: int = 5, mode: str = "hybrid", sources=None, index=None,
                      regions=None, since=None, until=None, strictness: str = "normal") -> list[dict]:
    result = run_search(query, k, mode, sources, index, regions, since, until, strictness)
    out = []
    for p, sim in zip(result["passages"], result["similarity"]):
        d = p.to_dict()
        d["similarity"] = sim
        d["answers"] = result["answered"]
        d["reason"] = result["reason"]
        out.append(d)
    return out


# --------------------------------------------------------------------------- the model's answer

# Only with a model configured (app.py --llm-url / BULLETIN_QA_LLM_URL): the answer is written by
# it over the passages, streamed sentence by sentence, each sentence shown only once it has been
# checked (qa/generate.py); a sentence that failed is struck through with the reason.  Without a
# model none of this runs and the page is the extractive one above.

_MARKER_SHOWN = re.compile(r"\[(\d+)\]")


def linked_markers(escaped: str, passages, lang: str = "en") -> str:
    """[n] in an escaped sentence -> a link to card n (a marker beyond the cards stays text)."""
    def link(m):
        n = int(m.group(1))
        if 1 <= n <= len(passages):
            return (f'<a class="qa-cite" href="#qa-card-{n}" title="{esc(qa_page.cite(passages[n - 1], lang))}">'
                    f'[{n}]</a>')
        return f'<span class="qa-cite-bad">[{n}]</span>'
    return _MARKER_SHOWN.sub(link, escaped)


def _generated_body(query: str, a, lang: str) -> str:
    """The model's sentences (checked ones as text, failed ones struck through with the reason),
    or, when it gave nothing usable, the extractive answer and what it wrote."""
    t, tr, passages = qa_i18n.text, qa_i18n.translate, a.passages
    if a.generated or not a.done:
        parts = []
        for c in a.sentences:
            if c.ok:
                parts.append(f'<span class="qa-ok">{linked_markers(esc(c.sentence), passages, lang)}</span>')
            else:
                reason = esc(tr(c.reason, lang))
                parts.append(f'<del class="qa-unsupported" title="{reason}">'
                             f'{linked_markers(esc(c.sentence), passages, lang)}</del>'
                             f'<span class="qa-warn">⚠ {esc(t("failed_check", lang))}{reason}</span>')
        if not a.done:
            parts.append('<span class="qa-writing">…</span>')
        gap = " " if qa_generate.question_language(query) == "en" else ""
        return f'<p class="qa-sentence qa-generated-text">{gap.join(parts)}</p>'
    top = passages[0]
    body = (f'<p class="qa-sentence">{esc(top.answer or top.text)} '
            f'<a class="qa-cite" href="#qa-card-1" title="{esc(qa_page.cite(top, lang))}">[1]</a></p>')
    struck = [f'<del class="qa-unsupported" title="{esc(tr(c.reason, lang))}">'
              f'{linked_markers(esc(c.sentence), passages, lang)}</del>'
              f'<span class="qa-warn">⚠ {esc(tr(c.reason, lang))}</span>' for c in a.unsupported]
    if struck:
        body += f'<p class="qa-struck">{esc(t("model_wrote", lang))}{" ".join(struck)}</p>'
    return body


def render_generated(query: str, a, result: dict, lang: str = "en") -> str:
    """HTML of a model's answer (``qa.generate.Answer``), partial while ``a.done`` is False, in
    ``lang``: the page's words, the check's reasons and the model's notes translated."""
    if not result["passages"] or result["answered"] is False:
        return render_answer(query, result, lang)
    t = qa_i18n.text
    body = _generated_body(query, a, lang)
    model = f"<b>{esc(a.model or t('the_model', lang))}</b>"
    if not a.done:
        who = t("model_writing", lang, model=model)
    elif a.generated:
        who = t("model_wrote_it", lang, model=model)
    else:
        who = t("model_not_used", lang, model=model)
    cited = sorted(a.citations.items()) if a.done else []
    refs = "".join(f'<div class="qa-citation">[{n}] {esc(qa_page.cite(p, lang))}</div>' for n, p in cited)
    note = f'<div class="qa-note">⚠ {esc(qa_i18n.translate(a.note, lang))}</div>' if a.note and a.done else ""
    return (f'<div class="qa-answer qa-llm{" qa-llm-writing" if not a.done else ""}">{asked_html(query, lang)}{body}'
            f'<div class="qa-model">{who}</div>{note}{refs}</div>')


def ask_llm(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Path | None = None, llm=None,
            lang: str = "en", corpus: Path | None = None, **where):
    """Like :func:`ask`, for the page with a model: yields (answer HTML, cards HTML) as the
    model's checked sentences arrive; the cards come with the first yield.  ``where``: regions,
    since, until, strictness (``qa.search``'s)."""
    index = qa_api.index_dir(index)
    sources = list(sources) if sources else None
    try:
        parts = qa_generate.stream_answer(query, int(k), llm=llm, stream=True, mode=mode, index=index,
                                          sources=sources, **where)
        first = next(parts)
    except qa_store.IndexMissing:
        yield missing_index_html(index, lang), ""
        return
    except qa_store.IndexDamaged as e:
        yield f'<div class="qa-answer qa-none">{qa_i18n.text("damaged", lang, e=esc(str(e)))}</div>', ""
        return
    except (ValueError, TypeError) as e:
        yield f'<div class="qa-answer qa-none">{esc(qa_i18n.translate(str(e), lang))}</div>', ""
        return
    result = {"passages": first.passages, "similarity": [p.similarity for p in first.passages],
              "answered": first.answered, "reason": first.reason}
    cards = render_cards(result, index, lang, corpus)
    yield render_generated(query, first, result, lang), cards
    for a in parts:
        yield render_generated(query, a, result, lang), cards


def answer_api_result(query: str, k=5, mode: str = "hybrid", sources=None, index=None, llm=None,
                      strictness: str = "normal") -> dict:
    """``qa.answer()`` for the ``/answer`` endpoint: ``Answer.to_dict()``."""
    if isinstance(k, bool) or not isinstance(k, (int, float)) or k != int(k):
        raise ValueError(f"k must be an integer from 1 to 100, not {k!r}")
    if sources is not None and (not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)):
        raise ValueError(f"sources must be a list of file names (or null for all), not {sources!r}")
    return qa_generate.answer(query, int(k), llm=llm, mode=mode, index=qa_api.index_dir(index),
                              sources=sources or None, strictness=strictness or "normal").to_dict()


# --------------------------------------------------------------------------- documents


def _human(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.1f} MB"


def corpus_files(corpus: Path) -> list[str]:
    corpus = Path(corpus)
    if not corpus.is_dir():
        return []
    return [p.relative_to(corpus).as_posix() for p in qa_ingest.list_corpus(corpus)]


def list_documents(corpus: Path, index: Path) -> list[dict]:
    """Every bulletin in the corpus or the index, with its state."""
    corpus, index = Path(corpus), qa_stores.location(index)
    files = indexed_files(index)
    on_disk = corpus_files(corpus)
    rows = []
    for name in sorted(set(files) | set(on_disk)):
        info = files.get(name, {})
        path = corpus / name
        if name not in on_disk:
            state = "deleted: rebuild to remove"
        elif not info:
            state = "not indexed yet: rebuild"
        elif path.stat().st_size != info.get("size") or _sha256_file(path) != info.get("sha256"):
            state = "changed: rebuild"
        else:
            state = "indexed"
        size = path.stat().st_size if name in on_disk else info.get("size", 0)
        rows.append({"file": name, "title": info.get("title", ""), "passages": info.get("passages", 0),
                     "size": size, "added": str(info.get("added", "")).replace("T", " "), "state": state})
    return rows


def documents_view(corpus: Path, index: Path, lang: str = "en") -> str:
    """The documents table as HTML (qa.page.documents_html): each bulletin's name and articles."""
    info = qa_page.document_info(live_passages(index))
    return qa_page.documents_html(list_documents(corpus, index), info, lang, _human)


def documents_api_result(corpus: Path, index: Path, query: str = "") -> list[dict]:
    """The ``/documents`` endpoint: every bulletin's row (file, title, passages, size, added, state)
    with its name (doc_title), regions and articles (title, region, date, start_line, end_line);
    ``query`` keeps those whose file name, name, region or article titles contain its words."""
    info = qa_page.document_info(live_passages(index))
    rows = qa_page.filter_documents(list_documents(corpus, index), info, query or "")
    empty = {"doc_title": "", "regions": [], "articles": []}
    return [{**r, **{k: v for k, v in info.get(r["file"], empty).items()}} for r in rows]


def _sha256_file(path: Path) -> str:
    st = path.stat()
    key = ("sha", str(path), st.st_size, st.st_mtime_ns)
    if key not in _caches:
        if len(_caches) >= 4096:  # bounded: the oldest goes first
            _caches.pop(next(iter(_caches)))
        _caches[key] = file_sha256(path)
    return _caches[key]


def check_name(name: str) -> str:
    """The file name to save under, or ValueError: a plain, visible name with an indexable suffix."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("the file has no name")
    name = unicodedata.normalize("NFC", name.strip())
    if "/" in name or "\\" in name or ".." in name:
        raise ValueError(f"{name!r}: give a plain file name (no folders, no '..')")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise ValueError(f"{name!r}: the file name contains control characters")
    if name.startswith("."):
        raise ValueError(f"{name!r}: hidden files (name starting with '.') are not accepted")
    if any(c in _BAD_NAME_CHARS for c in name):
        raise ValueError(f"{name!r}: the file name contains one of {''.join(sorted(_BAD_NAME_CHARS))}")
    if len(name.encode("utf-8")) > 200:
        raise ValueError("the file name is too long (200 bytes at most)")
    suffix = Path(name).suffix.lower()
    if suffix not in qa_ingest.SUFFIXES:
        raise ValueError(f"{name!r}: only {', '.join(qa_ingest.SUFFIXES)} files can be indexed")
    return name


def check_content(name: str, data: bytes) -> None:
    """ValueError unless the bytes look like a readable document of the file's type."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"{name}: {_human(len(data))} is larger than the {_human(MAX_UPLOAD_BYTES)} limit")
    if not data.strip():
        raise ValueError(f"{name}: the file is empty")
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise ValueError(f"{name}: not a PDF file")
    elif suffix == ".docx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" not in z.namelist():
                    raise ValueError(f"{name}: not a Word .docx document")
        except zipfile.BadZipFile:
            raise ValueError(f"{name}: not a Word .docx document") from None
    else:
        try:
            qa_ingest.decode_bytes(data, name)
        except qa_ingest.IngestError as e:
            raise ValueError(f"refused: {e}") from None


def save_upload(corpus: Path, name: str, data: bytes) -> tuple[bool, str]:
    """Check one uploaded file and write it into ``corpus``; (saved, message)."""
    corpus = Path(corpus)
    try:
        name = check_name(name)
        check_content(name, data)
    except ValueError as e:
        return False, f"✗ {e}"
    corpus.mkdir(parents=True, exist_ok=True)
    root = corpus.resolve()
    target = corpus / name
    if target.resolve().parent != root:  # belt and braces: the name cannot leave corpus/
        return False, f"✗ {name!r}: not a plain file name"
    digest = hashlib.sha256(data).hexdigest()
    with _corpus_lock:
        for other in corpus_files(corpus):
            if _sha256_file(corpus / other) == digest:
                return False, f"✗ {name}: same content as {other}, which is already in the corpus"
        if target.exists():
            return False, f"✗ {name}: a different file with this name is already in the corpus (delete it first)"
        # the indexer must be able to read it: try it on a hidden staging file inside corpus/
        staging = corpus / f".upload-{uuid.uuid4().hex}{Path(name).suffix.lower()}"
        try:
            staging.write_bytes(data)
            try:
                qa_ingest.read_document(staging, name)
            except (qa_ingest.IngestError, OSError, ValueError) as e:
                return False, f"✗ refused: {e}"
            with open(target, "xb") as f:
                f.write(data)
        except FileExistsError:
            return False, f"✗ {name}: a file with this name is already in the corpus"
        finally:
            staging.unlink(missing_ok=True)
    return True, f"✓ added {name} ({_human(len(data))}); press Rebuild index to make it searchable"


def delete_document(corpus: Path, name: str) -> tuple[bool, str]:
    corpus = Path(corpus)
    if not name:
        return False, "✗ pick a bulletin to delete"
    with _corpus_lock:
        if name not in corpus_files(corpus):
            return False, f"✗ {name!r} is not a file of the corpus"
        (corpus / name).unlink()
    return True, f"✓ deleted {name}; press Rebuild index to drop its passages from the answers"


def rebuild_index(corpus: Path, index: Path, from_scratch: bool = False, progress=None, lang: str = "en") -> str:
    """Build the index; ``progress(fraction, desc=...)`` follows the stage that takes the time
    (qa.page.BuildProgress).  The message is plain text (the page shows it as text)."""
    report = qa_page.BuildProgress(progress, lang).report

    try:
        Path(corpus).mkdir(parents=True, exist_ok=True)
        rep = qa_api.build(corpus, index, rebuild=bool(from_scratch), progress=report, wait=0)
    except RuntimeError as e:
        return f"✗ not rebuilt: {e}"
    except (FileNotFoundError, OSError, ValueError) as e:
        return f"✗ not rebuilt: {e}"
    msg = f"✓ index rebuilt: {rep.summary()}"
    if rep.skipped:
        msg += "\n" + "\n".join(f"⚠ {s}" for s in rep.skipped)
    return msg


# --------------------------------------------------------------------------- page

CSS = """
.qa-header h1 {margin: 0 0 .2em 0; font-size: 1.6em}
.qa-header p {margin: 0; color: var(--body-text-color-subdued)}
.qa-answer {border-left: 5px solid #0f766e; background: #f0fdfa; padding: 12px 16px; border-radius: 8px;
  margin: 6px 0 10px 0; color: #111827}
.qa-answer.qa-none {border-left-color: #b45309; background: #fffbeb}
.qa-asked {font-size: .85em; color: #4b5563; margin-bottom: 4px}
.qa-sentence {font-size: 1.2em; line-height: 1.6; margin: 4px 0}
.qa-cite {font-weight: 600; text-decoration: none; color: #0f766e; margin-left: 2px}
.qa-citation {font-size: .85em; color: #4b5563}
.qa-nearest-note {font-weight: 600; color: #b45309; margin: 6px 0}
.qa-card {border: 1px solid #e5e7eb; border-radius: 10px; padding: 12px 16px; margin: 10px 0;
  background: #ffffff; color: #111827; box-shadow: 0 1px 2px rgba(0,0,0,.04)}
.qa-card-nearest {border-style: dashed; background: #fafafa}
.qa-card-head {font-size: 1.05em; font-weight: 600}
.qa-rank {color: #0f766e; margin-right: 4px}
.qa-badge {font-size: .75em; font-weight: 500; color: #92400e; background: #fef3c7; border-radius: 6px;
  padding: 1px 6px; margin-left: 8px}
.qa-meta {font-size: .82em; color: #6b7280; margin: 2px 0 8px 0}
.qa-text, .qa-article {white-space: pre-wrap; line-height: 1.75; font-size: 1em}
.qa-text mark, .qa-article mark {background: #fde68a; color: #111827; padding: 0 2px; border-radius: 3px}
.qa-context summary {cursor: pointer; color: #0f766e; font-size: .9em; margin-top: 8px}
.qa-article {background: #f9fafb; border-radius: 8px; padding: 10px 12px; margin-top: 6px; color: #374151}
.qa-article-title {font-weight: 700; margin-bottom: 4px}
.qa-here {background: #e0f2fe; border-radius: 3px}
#ask {align-self: end; max-height: 56px}
.qa-unsupported {color: #991b1b; text-decoration: line-through; text-decoration-color: #b91c1c}
.qa-warn {font-size: .75em; color: #991b1b; background: #fee2e2; border-radius: 6px; padding: 1px 6px;
  margin: 0 4px}
.qa-cite-bad {color: #991b1b; font-weight: 600}
.qa-writing {color: #6b7280}
.qa-model, .qa-note, .qa-struck {font-size: .85em; color: #4b5563; margin: 4px 0}
.qa-note {color: #92400e}
.qa-about {font-size: .88em; color: #374151; margin: 2px 0; display: flex; flex-wrap: wrap; gap: 2px 14px}
.qa-about-key {color: #6b7280}
.qa-filename {font-family: ui-monospace, monospace; font-size: .95em; word-break: break-all}
.qa-actions {display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-top: 8px}
.qa-copy, .qa-open {font-size: .82em; border: 1px solid #99f6e4; background: #f0fdfa; color: #0f766e;
  border-radius: 6px; padding: 2px 10px; cursor: pointer; text-decoration: none; line-height: 1.8}
.qa-copy.qa-copied {background: #ccfbf1}
.qa-citation .qa-copy {margin-left: 6px}
.qa-msg {word-break: break-word}
#qa-export {justify-content: flex-start}
#qa-export > * {flex: 0 0 auto !important; min-width: 0 !important}
table.qa-docs {width: 100%; border-collapse: collapse; table-layout: auto; font-size: .92em}
table.qa-docs th, table.qa-docs td {border-bottom: 1px solid #e5e7eb; padding: 6px 8px; text-align: left;
  vertical-align: top}
table.qa-docs th {white-space: nowrap; color: #374151; background: #f9fafb}
table.qa-docs td.qa-passages, table.qa-docs td.qa-size, table.qa-docs td.qa-added {white-space: nowrap}
table.qa-docs td.qa-file {max-width: 16em}
table.qa-docs td.qa-state {min-width: 7em}
.qa-doc-title {font-weight: 600}
.qa-doc-articles summary {cursor: pointer; color: #0f766e; font-size: .9em}
.qa-doc-articles ol {margin: 4px 0 0 1.2em; padding: 0}
.qa-doc-region {color: #6b7280; font-size: .9em}
.qa-art-list {margin: 4px 0 0 1.2em; padding: 0}
.qa-art-list li {margin: 2px 0}
.qa-art-match .qa-art-title {background: #fef9c3; border-radius: 3px}
.qa-state-st_indexed {color: #047857}
.qa-state-st_new, .qa-state-st_changed, .qa-state-st_deleted {color: #b45309}
@media (max-width: 640px) {
  #qa-ask-row {flex-wrap: wrap !important}
  #qa-ask-row > * {flex: 1 1 100% !important; min-width: 100% !important}
  #qa-options, #qa-filters {flex-wrap: wrap !important}
  #qa-options > *, #qa-filters > * {flex: 1 1 100% !important; min-width: 100% !important}
  table.qa-docs thead {display: none}
  table.qa-docs, table.qa-docs tbody, table.qa-docs tr, table.qa-docs td {display: block; width: 100%;
    box-sizing: border-box}
  table.qa-docs tr {border: 1px solid #e5e7eb; border-radius: 8px; margin: 0 0 10px 0; padding: 4px 0}
  table.qa-docs td {border: 0; padding: 3px 10px; max-width: none !important; white-space: normal !important}
  table.qa-docs td::before {content: attr(data-label) "："; color: #6b7280; font-size: .85em; margin-right: 4px}
  table.qa-docs tr.qa-docs-nomatch td::before {content: none}
  .qa-sentence {font-size: 1.08em}
}
"""

# the copy-citation buttons of the cards (one listener for the page; the citation is in the button's
# data-citation attribute, escaped like every text of the page)
HEAD = """<script>
document.addEventListener('click', async (event) => {
  const button = event.target && event.target.closest ? event.target.closest('.qa-copy') : null;
  if (!button) return;
  event.preventDefault();
  const citation = button.getAttribute('data-citation') || '';
  let ok = false;
  try { await navigator.clipboard.writeText(citation); ok = true; } catch (e) {
    const area = document.createElement('textarea');
    area.value = citation; area.style.position = 'fixed'; area.style.opacity = '0';
    document.body.appendChild(area); area.select();
    try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
    area.remove();
  }
  if (ok) {
    button.classList.add('qa-copied');
    const before = button.textContent;
    button.textContent = '✓ ' + (button.getAttribute('data-done') || 'Copied');
    setTimeout(() => { button.textContent = before; button.classList.remove('qa-copied'); }, 1500);
  }
});
// the documents' search box: keeps the rows whose file name, bulletin name, regions or article titles
// hold every word typed (NFKC, case-folded, as qa.page.filter_documents), opens the article lists that
// match, and applies again whenever the table is redrawn (after an upload, a delete, a rebuild)
const qaFold = (s) => (s || '').normalize('NFKC').toLowerCase();
function qaFilterDocs() {
  const box = document.querySelector('#doc-search textarea, #doc-search input');
  const table = document.querySelector('#documents table.qa-docs');
  if (!box || !table) return;
  const words = qaFold(box.value).split(/\s+/).filter(Boolean);
  const has = (el) => words.every((w) => (el.getAttribute('data-search') || '').includes(w));
  let shown = 0;
  table.querySelectorAll('tr.qa-doc-row').forEach((tr) => {
    const ok = has(tr);
    tr.style.display = ok ? '' : 'none';
    if (ok) shown += 1;
    const details = tr.querySelector('details.qa-doc-articles');
    if (!details) return;
    let any = false;
    details.querySelectorAll('li').forEach((li) => {
      const m = words.length > 0 && has(li);
      li.classList.toggle('qa-art-match', m);
      any = any || m;
    });
    if (words.length) details.open = any;
  });
  const none = table.querySelector('tr.qa-docs-nomatch');
  if (none) none.style.display = shown ? 'none' : '';
}
document.addEventListener('input', (e) => {
  if (e.target && e.target.closest && e.target.closest('#doc-search')) qaFilterDocs();
});
let qaDocsTable = null;
new MutationObserver(() => {
  const t = document.querySelector('#documents table.qa-docs');
  if (t && t !== qaDocsTable) { qaDocsTable = t; qaFilterDocs(); }
}).observe(document.documentElement, {subtree: true, childList: true});
</script>"""

# after a search: the answer scrolled into view when it is not (on a phone it lands below the fold)
SCROLL_TO_ANSWER = """() => {
  const el = document.querySelector('#answer');
  if (!el) return;
  const r = el.getBoundingClientRect();
  if (r.top < 0 || r.top > window.innerHeight - 160) el.scrollIntoView({block: 'start'});
}"""

FONTS = ["system-ui", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]


def theme():
    return gr.themes.Soft(primary_hue="teal", font=FONTS, font_mono=["ui-monospace", "monospace"])


@dataclass
class Page:
    """What the page's handlers share: its folders, the model (None: the extractive page) and,
    once laid out, its components by name (``c.question``, ``c.table`` ...)."""
    corpus: Path
    index: Path
    llm: object = None
    c: SimpleNamespace = field(default_factory=SimpleNamespace)


def source_choices(index: Path) -> list[tuple[str, str]]:
    """(bulletin name · file, file) of the indexed files: a reader knows a bulletin by its name."""
    info = qa_page.document_info(live_passages(index))
    out = []
    for name in sorted(indexed_files(index)):
        doc = (info.get(name) or {}).get("doc_title") or ""
        out.append((f"{doc} · {name}" if doc and doc != name else name, name))
    return out


def status_html(index: Path, lang: str = "en") -> str:
    """The banner: how to build the index when there is none."""
    return "" if qa_stores.has_live(index) else missing_index_html(qa_stores.describe(index), lang)


def refresh(page: Page, lang: str = "en") -> tuple:
    """The documents table, the delete and filter choices, the banner (after a corpus change):
    the values of ``page.c.listing``."""
    return (documents_view(page.corpus, page.index, lang), gr.Dropdown(choices=corpus_files(page.corpus), value=None),
            gr.Dropdown(choices=source_choices(page.index)),
            gr.Dropdown(choices=qa_page.region_choices(live_passages(page.index))), status_html(page.index, lang))


def create_app(corpus: str | os.PathLike | None = None, index: str | os.PathLike | None = None,
               llm: qa_generate.LLMSettings | None = None) -> gr.Blocks:
    """The page.  ``llm``: the model that writes the answer (None: none, the extractive page)."""
    page = Page(qa_api.corpus_dir(corpus), qa_api.index_dir(index), llm)
    i18n = gr.I18n(**qa_i18n.ui_translations(", ".join(qa_ingest.SUFFIXES), _human(MAX_UPLOAD_BYTES)))
    with gr.Blocks(title="社会工作简报问答 · Bulletin QA", analytics_enabled=False) as demo:
        demo.qa_i18n, demo.qa_corpus = i18n, page.corpus  # for launch()
        with gr.Column(elem_classes="qa-header"):
            gr.Markdown("# " + i18n("title"))
            gr.Markdown(i18n("subtitle"))
        page.c.banner = gr.HTML(status_html(page.index), elem_id="status")
        page.c.browser_lang = gr.Textbox(visible="hidden", elem_id="qa-lang")
        with gr.Tabs():
            with gr.Tab(i18n("tab_ask"), id="ask"):
                ask_tab(page, i18n)
            with gr.Tab(i18n("tab_docs"), id="docs"):
                docs_tab(page, i18n)
        c = page.c
        c.listing = [c.table, c.to_delete, c.sources, c.regions, c.banner]
        wire_ask(page)
        wire_api(page)
        wire_upload(page)
        wire_delete(page)
        wire_rebuild_and_load(page, demo)
    return demo


def ask_tab(page: Page, i18n) -> None:
    """The Ask tab's components: question, examples, options, filters, answer, cards, export."""
    c = page.c
    with gr.Row(equal_height=False, elem_id="qa-ask-row"):
        c.question = gr.Textbox(label=i18n("question"), placeholder=i18n("question_ph"), lines=1, max_lines=1,
                                scale=6, elem_id="question", autofocus=True)
        c.ask_btn = gr.Button(i18n("ask"), variant="primary", scale=1, min_width=120, elem_id="ask", size="lg")
    c.examples = gr.Examples(EXAMPLES, inputs=c.question, label=i18n("examples"), elem_id="examples")
    with gr.Row(elem_id="qa-options"):
        c.k = gr.Dropdown(choices=list(range(1, 21)), value=5, label=i18n("k"), scale=1, min_width=110, elem_id="k")
        c.mode = gr.Radio([(i18n("mode_" + m), m) for m in MODES], value="hybrid", label=i18n("mode"), scale=2,
                          elem_id="mode")
        c.strictness = gr.Radio([(i18n("strict_" + s), s) for s in qa_verdict.STRICTNESS], value="normal",
                                label=i18n("strictness"), info=i18n("strictness_info"), scale=2, elem_id="strictness")
    with gr.Row(elem_id="qa-filters"):
        c.sources = gr.Dropdown(choices=source_choices(page.index), multiselect=True, value=[],
                                label=i18n("sources"), scale=3, elem_id="sources")
        c.regions = gr.Dropdown(choices=qa_page.region_choices(live_passages(page.index)), multiselect=True,
                                value=[], label=i18n("regions"), scale=2, elem_id="regions")
        c.since = gr.Textbox(label=i18n("since"), placeholder=i18n("date_ph"), max_lines=1, scale=1, min_width=140,
                             elem_id="since")
        c.until = gr.Textbox(label=i18n("until"), placeholder=i18n("date_ph"), max_lines=1, scale=1, min_width=140,
                             elem_id="until")
    c.answer = gr.HTML(elem_id="answer")
    c.cards = gr.HTML(elem_id="cards")
    with gr.Row(elem_id="qa-export"):
        c.csv_btn = gr.DownloadButton(i18n("export_csv"), visible=False, size="sm", elem_id="export-csv")
        c.md_btn = gr.DownloadButton(i18n("export_md"), visible=False, size="sm", elem_id="export-md")


def docs_tab(page: Page, i18n) -> None:
    """The Documents tab's components: search box, table, upload, delete (with its confirmation),
    rebuild and its one progress bar."""
    c = page.c
    gr.Markdown("### " + i18n("docs"))
    c.doc_search = gr.Textbox(label=i18n("doc_search"), placeholder=i18n("doc_search_ph"), max_lines=1,
                              elem_id="doc-search")  # filters the table in the browser (HEAD's script)
    c.table = gr.HTML(documents_view(page.corpus, page.index), elem_id="documents")
    with gr.Row():
        with gr.Column(scale=3):
            c.files = gr.File(file_count="multiple", file_types=list(qa_ingest.SUFFIXES), label=i18n("upload"))
        with gr.Column(scale=2):
            c.add_btn = gr.Button(i18n("add"), variant="primary", elem_id="add")
            c.upload_msg = gr.HTML(elem_id="upload-msg", elem_classes="qa-msg")  # text, never Markdown
    with gr.Row(elem_id="qa-delete-row"):
        c.to_delete = gr.Dropdown(choices=corpus_files(page.corpus), label=i18n("to_delete"), scale=3,
                                  elem_id="to-delete")
        c.del_btn = gr.Button(i18n("delete"), variant="stop", scale=1, elem_id="delete")
    with gr.Column(visible=False, elem_id="confirm-delete") as c.confirm_box:
        c.confirm_msg = gr.HTML(elem_id="confirm-msg", elem_classes="qa-msg")
        with gr.Row():
            c.confirm_btn = gr.Button(i18n("confirm_delete"), variant="stop", elem_id="confirm-delete-btn")
            c.cancel_btn = gr.Button(i18n("cancel"), elem_id="cancel-delete")
    with gr.Row():
        c.scratch = gr.Checkbox(label=i18n("scratch"), value=False, scale=3)
        c.rebuild_btn = gr.Button(i18n("rebuild"), variant="primary", scale=1, elem_id="rebuild")
    c.build_msg = gr.HTML(elem_id="build-msg", elem_classes="qa-msg")  # the one progress bar shows here


def ask_handler(page: Page):
    """The handler of a search from the page: (answer, cards) HTML in the browser's language; with
    a model, a generator streaming the checked answer."""
    def on_ask(q, k_, mode_, sources_, regions_=None, since_=None, until_=None, strictness_="normal",
               request: gr.Request = None):
        return ask(q, int(k_), mode_, sources_, page.index, qa_i18n.lang_of(request), regions_, since_, until_,
                   page.corpus, strictness_ or "normal")

    def on_ask_llm(q, k_, mode_, sources_, regions_=None, since_=None, until_=None, strictness_="normal",
                   request: gr.Request = None):
        yield from ask_llm(q, int(k_), mode_, sources_, page.index, page.llm, lang=qa_i18n.lang_of(request),
                           corpus=page.corpus, regions=regions_ or None, since=since_ or None,
                           until=until_ or None, strictness=strictness_ or "normal")

    return on_ask_llm if page.llm else on_ask


def wire_ask(page: Page) -> None:
    """Ask, Enter, an example, and any change of k, mode, strictness or a filter run the question;
    the export files and the scroll to the answer follow each search."""
    c, run = page.c, ask_handler(page)
    inputs = [c.question, c.k, c.mode, c.sources, c.regions, c.since, c.until, c.strictness]

    def on_change(q, k_, mode_, sources_, regions_, since_, until_, strictness_, request: gr.Request = None):
        """A changed k, mode, strictness or filter runs the current question again (none yet: nothing)."""
        rest = (k_, mode_, sources_, regions_, since_, until_, strictness_)
        if not (q or "").strip():
            yield gr.skip(), gr.skip()
        elif page.llm:
            yield from run(q, *rest, request=request)
        else:
            yield run(q, *rest, request=request)

    def on_export(q, k_, mode_, sources_, regions_, since_, until_, strictness_, request: gr.Request = None):
        """The CSV and Markdown of the results shown (hidden when there are none)."""
        hidden = gr.DownloadButton(visible=False), gr.DownloadButton(visible=False)
        try:
            found = run_search(q, int(k_), mode_, sources_, page.index, regions_, since_ or None, until_ or None,
                               strictness_ or "normal")
        except (ValueError, TypeError, qa_store.IndexDamaged):
            return hidden
        if not found["passages"]:
            return hidden
        csv_path, md_path = qa_page.export_files(q, found["passages"], qa_i18n.lang_of(request))
        return gr.DownloadButton(value=csv_path, visible=True), gr.DownloadButton(value=md_path, visible=True)

    def after(event):
        event.then(on_export, inputs, [c.csv_btn, c.md_btn], api_visibility="private", queue=False) \
             .then(None, None, None, js=SCROLL_TO_ANSWER)

    search = dict(api_visibility="private", concurrency_id="search", concurrency_limit=4)
    after(gr.on([c.question.submit, c.ask_btn.click], run, inputs, [c.answer, c.cards], **search))
    after(gr.on([c.k.input, c.mode.input, c.strictness.input, c.sources.input, c.regions.input, c.since.submit,
                 c.until.submit, c.since.blur, c.until.blur], on_change, inputs, [c.answer, c.cards], **search))
    after(c.examples.load_input_event.then(run, inputs, [c.answer, c.cards], **search))


def _list_of_str(value, what: str, name: str) -> None:
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
        raise ValueError(f"{name} must be a list of {what} (or null for all), not {value!r}")


def wire_api(page: Page) -> None:
    """The named endpoints for gradio_client: /search, /documents, and /answer with a model."""
    if page.llm:
        def answer_endpoint(query: str, k: int = 5, mode: str = "hybrid", sources: list[str] | None = None,
                            strictness: str = "normal") -> dict:
            """The configured model's answer over the k best passages, checked against them:
            qa.answer()'s Answer as a dict (text, citations, generated, unsupported, note ...)."""
            try:
                return answer_api_result(query, k, mode, sources, page.index, page.llm, strictness)
            except (ValueError, TypeError, qa_store.IndexDamaged) as e:
                raise gr.Error(str(e)) from None

        gr.api(answer_endpoint, api_name="answer", concurrency_id="search", concurrency_limit=4)

    def search(query: str, k: int = 5, mode: str = "hybrid", sources: list[str] | None = None,
               regions: list[str] | None = None, since: str | None = None, until: str | None = None,
               strictness: str = "normal") -> list[dict]:
        """The k passages that best answer the query, best first (Passage.to_dict() each, with
        doc_title, region, date, issuer; plus similarity, citation and answers: False when the
        bulletins do not seem to answer).  regions: places (湖北, 酒泉市); since / until: YYYY,
        YYYY-MM or YYYY-MM-DD (an article without a date is outside a date filter); strictness:
        lenient, normal or strict, how close a passage must be to count as an answer."""
        try:
            if isinstance(k, bool) or not isinstance(k, (int, float)) or k != int(k):  # 2.5, True, "5"
                raise ValueError(f"k must be an integer from 1 to 100, not {k!r}")
            _list_of_str(sources, "file names", "sources")
            _list_of_str(regions, "place names", "regions")
            return search_api_result(query, int(k), mode, sources, page.index, regions or None, since or None,
                                     until or None, strictness or "normal")
        except (ValueError, TypeError, qa_store.IndexDamaged) as e:
            raise gr.Error(str(e)) from None

    gr.api(search, api_name="search", concurrency_id="search", concurrency_limit=4)

    def documents(query: str = "") -> list[dict]:
        """The bulletins of the corpus and the index: file, title, passages, size, added, state, and
        doc_title, regions and articles (title, region, date, start_line, end_line); query: keep
        those whose file name, name, regions or article titles contain its words."""
        return documents_api_result(page.corpus, page.index, query if isinstance(query, str) else "")

    gr.api(documents, api_name="documents")


def wire_upload(page: Page) -> None:
    """Upload from the page (/upload) and from a script (/add_document), one corpus change at a time."""
    c = page.c

    def on_upload(paths, request: gr.Request = None):
        lang = qa_i18n.lang_of(request)
        msgs = []
        for p in paths or []:
            p = Path(p)
            try:
                size = p.stat().st_size
                if size > MAX_UPLOAD_BYTES:
                    msgs.append(f"✗ {p.name}: {_human(size)} is larger than the {_human(MAX_UPLOAD_BYTES)} limit")
                    continue
                data = p.read_bytes()
            except OSError as e:
                msgs.append(f"✗ {p.name}: cannot read the upload ({e})")
                continue
            msgs.append(save_upload(page.corpus, p.name, data)[1])
        msg = "<br>".join(esc(qa_i18n.translate(m, lang)) for m in msgs) or esc(qa_i18n.text("choose_files", lang))
        return (msg, None, *refresh(page, lang), "", gr.Column(visible=False))  # the rebuild's message is stale

    c.add_btn.click(on_upload, [c.files], [c.upload_msg, c.files, *c.listing, c.build_msg, c.confirm_box],
                    api_name="upload", concurrency_id="corpus", concurrency_limit=1)

    def add_document(filename: str, content_base64: str) -> dict:
        """Add one bulletin given its file name and its bytes in base64: {saved, file, message}."""
        try:
            data = base64.b64decode(content_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            return {"saved": False, "file": filename, "message": "✗ the content is not valid base64"}
        saved, message = save_upload(page.corpus, filename, data)
        return {"saved": saved, "file": filename, "message": message}

    gr.api(add_document, api_name="add_document", concurrency_id="corpus", concurrency_limit=1)


def wire_delete(page: Page) -> None:
    """Delete asks first (the confirmation names the file, as text); /delete for scripts."""
    c = page.c

    def on_ask_delete(name, request: gr.Request = None):
        lang = qa_i18n.lang_of(request)
        if not name:
            return gr.Column(visible=False), "", esc(qa_i18n.text("pick_first", lang))
        return gr.Column(visible=True), esc(qa_i18n.text("confirm_delete", lang, name=name)), ""

    c.del_btn.click(on_ask_delete, [c.to_delete], [c.confirm_box, c.confirm_msg, c.upload_msg],
                    api_visibility="private", queue=False)
    c.cancel_btn.click(lambda: (gr.Column(visible=False), ""), None, [c.confirm_box, c.confirm_msg],
                       api_visibility="private", queue=False)

    def on_delete(name, request: gr.Request = None):
        lang = qa_i18n.lang_of(request)
        return (esc(qa_i18n.translate(delete_document(page.corpus, name)[1], lang)), *refresh(page, lang), "",
                gr.Column(visible=False))

    c.confirm_btn.click(on_delete, [c.to_delete], [c.upload_msg, *c.listing, c.build_msg, c.confirm_box],
                        api_name="delete_selected", concurrency_id="corpus", concurrency_limit=1)

    def delete(filename: str) -> dict:
        """Delete one bulletin of the corpus by its file name: {deleted, file, message}.  The name is
        checked here against the corpus as it is now (not against a dropdown's choices)."""
        deleted, message = delete_document(page.corpus, filename if isinstance(filename, str) else "")
        return {"deleted": deleted, "file": filename, "message": message}

    gr.api(delete, api_name="delete", concurrency_id="corpus", concurrency_limit=1)


def wire_rebuild_and_load(page: Page, demo: gr.Blocks) -> None:
    """Rebuild (one at a time, one progress bar on its message) and the page's load: the browser's
    language (navigator.language, which Gradio's own labels follow) is noted for the session, so
    that what the server writes (answers, cards, messages) is in the same language."""
    c = page.c

    def on_rebuild(from_scratch, request: gr.Request = None, progress=gr.Progress()):
        lang = qa_i18n.lang_of(request)
        progress(0, desc=qa_i18n.text("starting", lang))
        msg = esc(qa_i18n.translate(rebuild_index(page.corpus, page.index, from_scratch, progress, lang), lang))
        msg = msg.replace("\n", "<br>")  # shown as text: escaped, lines kept, never Markdown
        return (msg, *refresh(page, lang), "")  # the upload's "press Rebuild" is stale now

    c.rebuild_btn.click(on_rebuild, [c.scratch], [c.build_msg, *c.listing, c.upload_msg], api_name="rebuild",
                        concurrency_id="build", concurrency_limit=1, show_progress_on=[c.build_msg])

    def on_load(language, request: gr.Request = None):
        return refresh(page, qa_i18n.remember(request, language))

    demo.load(None, None, [c.browser_lang], js="() => navigator.language || ''", api_visibility="private") \
        .then(on_load, [c.browser_lang], c.listing, api_visibility="private")


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, auth=None, **kwargs):
    """Queue + launch with the page's settings (never shared), then the route of the original
    files (``serve_originals``); blocks unless ``prevent_thread_lock=True``."""
    block = not kwargs.pop("prevent_thread_lock", False)
    demo.queue(default_concurrency_limit=1, max_size=64)
    out = demo.launch(server_name=host, server_port=port, share=False, auth=auth,
                      auth_message="Bulletin QA: sign in with BULLETIN_QA_USER / BULLETIN_QA_PASSWORD",
                      max_file_size=2 * MAX_UPLOAD_BYTES, ssr_mode=False, show_error=True,
                      footer_links=["api"], theme=theme(), css=CSS, head=HEAD, inbrowser=False,
                      i18n=getattr(demo, "qa_i18n", None), prevent_thread_lock=True, **kwargs)
    if getattr(demo, "qa_corpus", None) is not None:
        serve_originals(demo, demo.qa_corpus)
    if block:
        demo.block_thread()
    return out


def serve_originals(demo: gr.Blocks, corpus: Path) -> None:
    """``GET original/<file>``: a file of the corpus by its name there (what the cards link to; no
    server path reaches the page), checked against the corpus as it is now (``corpus_files``:
    no folder, no symlink out), behind the page's login (the dependencies of Gradio's own file
    route).  A PDF inline (its viewer opens #page=N), text as plain text, Word as a download."""
    from fastapi import HTTPException
    from fastapi.responses import Response

    app = demo.server_app
    guard = next((d for r in app.routes for d in getattr(r, "dependencies", None) or []
                  if getattr(d.dependency, "__name__", "") == "login_check"), None)  # as on Gradio's /config
    if guard is None:  # fail closed: never serve the corpus past a login that cannot be checked
        raise RuntimeError("Gradio's login check was not found: the original files cannot be served safely")

    def original(name: str):
        root = Path(corpus).resolve()
        path = (root / name).resolve()
        if name not in corpus_files(corpus) or root not in path.parents:
            raise HTTPException(404, "not a file of the corpus")
        data = path.read_bytes()
        media, disposition = qa_page.original_media(name, data)
        quoted = urllib.parse.quote(Path(name).name)
        return Response(data, media_type=media, headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quoted}",
            "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "no-store"})

    app.add_api_route(f"/{qa_page.ORIGINAL_ROUTE}/{{name:path}}", original, methods=["GET"], dependencies=[guard],
                      include_in_schema=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bulletin-qa serve", description="Serve the bulletin question page.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other needs BULLETIN_QA_USER/PASSWORD)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--corpus", help="bulletin folder (default: corpus/ or $BULLETIN_QA_CORPUS)")
    p.add_argument("--index", help="index folder (default: index/ or $BULLETIN_QA_INDEX)")
    p.add_argument("--llm-url", help="OpenAI-compatible base URL of a model that writes the answer, e.g. "
                                     "http://127.0.0.1:11434/v1 (default: $BULLETIN_QA_LLM_URL; none: no model)")
    p.add_argument("--llm-model", help="the model's name (default: $BULLETIN_QA_LLM_MODEL, else the first it lists)")
    p.add_argument("--llm-timeout", type=float, help="seconds to wait for the model (default 30 or $BULLETIN_QA_LLM_TIMEOUT)")
    args = p.parse_args(argv)
    try:
        llm = qa_generate.llm_settings(args.llm_url, args.llm_model, timeout=args.llm_timeout)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    auth = None
    if not is_loopback(args.host):
        user, password = qa_settings.value("USER"), qa_settings.value("PASSWORD")
        if not user or not password:
            print(f"error: refusing to listen on {args.host}, which other machines can reach, without a login: "
                  "set BULLETIN_QA_USER and BULLETIN_QA_PASSWORD in the environment (or use --host 127.0.0.1)",
                  file=sys.stderr)
            return 2
        auth = (user, password)
    corpus, index = qa_api.corpus_dir(args.corpus), qa_api.index_dir(args.index)
    corpus.mkdir(parents=True, exist_ok=True)
    if not qa_stores.has_live(index):
        print(f"note: no index in {qa_stores.describe(index)} yet: build it from the page's Documents tab (Rebuild index) "
              "or with `bulletin-qa index`", file=sys.stderr)
    if llm:
        print(f"note: answers are written by {llm.model or 'the first model listed'} at {llm.where} and checked "
              "against the passages", file=sys.stderr)
    launch(create_app(corpus, index, llm=llm), args.host, args.port, auth=auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
