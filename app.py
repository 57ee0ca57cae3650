"""The question page: a Gradio app over the bulletin index.

    python app.py [--host 127.0.0.1] [--port 7860] [--corpus DIR] [--index DIR]
    bulletin-qa serve ...                      (the same, through the CLI)

Ask tab: a question, the best answering sentence with its citation, then every passage as
a card (rank, file, article, lines, score, the answering sentence marked, the whole article
on demand).  When the best passage is not similar enough to the question (a dense-cosine
threshold calibrated on the dev questions against off-topic ones, see ``answer_threshold``)
the page says the bulletins do not seem to answer it and shows the nearest passages as such.

Documents tab: the indexed bulletins, upload (checked: extension, size, file name, readable
content, duplicate content), delete, and "Rebuild index" with progress.

Issue 13: Chinese first through gr.I18n (qa/i18n.py; what the server writes follows the language
the browser reported on load), cards and citations naming bulletin, region, date and issuer
(qa/metadata.py at index time), copy-citation buttons, the original file from the card, region and
date filters, re-runs on any change, CSV / Markdown export, a phone layout, one rebuild progress
bar, delete with confirmation (qa/page.py holds the parts that are not wiring).

The index is not built on start: with no index the page says how to build it (the
Documents tab's "Rebuild index" button, or ``bulletin-qa index``).

Named API endpoints (gradio_client): ``/search``, ``/documents``, ``/upload``,
``/add_document``, ``/delete``, ``/rebuild``; with a model configured also ``/answer``.

With ``--llm-url`` (or ``BULLETIN_QA_LLM_URL``) a model the user runs writes the answer above the
cards, streamed and checked sentence by sentence (``qa/generate.py``); without, nothing changes.
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
import uuid
import zipfile
from pathlib import Path

from qa import settings as qa_settings  # noqa: E402 - importing qa sets the offline flags (qa.settings.offline)

import gradio as gr  # noqa: E402

from qa import api as qa_api  # noqa: E402
from qa import generate as qa_generate  # noqa: E402
from qa import i18n as qa_i18n  # noqa: E402
from qa import ingest as qa_ingest  # noqa: E402
from qa import page as qa_page  # noqa: E402
from qa import store as qa_store  # noqa: E402

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


def page_label(p) -> str:
    """" · p. 3" for a passage of a PDF."""
    if getattr(p, "page_start", None) is None:
        return ""
    pages = p.page_start if p.page_start == p.page_end else f"{p.page_start}–{p.page_end}"
    return f" · p. {pages}"


def run_search(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Path | None = None,
               regions=None, since=None, until=None) -> dict:
    """Passages plus the library's verdict (``answered``, ``reason``); ``regions`` / ``since`` /
    ``until``: the filters of ``qa.search``."""
    index = qa_api.index_dir(index)
    sources = list(sources) if sources else None
    passages = qa_api.search(query, k=int(k), mode=mode, index=index, sources=sources,
                             regions=list(regions) if regions else None, since=since or None, until=until or None)
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


def article_context(index: Path, source: str, article: int) -> tuple[str, str, int, int]:
    """(title, full text, first line, last line) of one article, from its passages."""
    store = qa_api.get_retriever(index).store
    key = ("articles", str(store.path))
    if key not in _caches:
        groups: dict = {}
        for i, p in enumerate(store.passages):
            groups.setdefault((p["source"], p.get("article", 0)), []).append(p)
        _caches[key] = groups
    group = _caches[key].get((source, article), [])
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
        if corpus is not None:
            label = t("open_page", lang, p=p.page_start) if p.page_start else t("open_original", lang)
            attrs = "" if p.page_start else f' download="{esc(Path(p.source).name)}"'
            link = (f'<a class="qa-open" href="{esc(qa_page.original_url(corpus, p.source, p.page_start))}" '
                    f'target="_blank" rel="noopener"{attrs}>{esc(label)}</a>')
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


SCORE_NOTE = ("Score: 1.00 = ranked first by every retrieval list that ran (in dense or lexical mode, by its one "
              "list); relative to this question, not a probability. "
              "得分：1.00 = 在参与检索的每个列表中都排第一（稠密或词法模式只有一个列表）；仅在本问题的结果之间比较，不是概率。")


def score_title(p, lang: str | None = None) -> str:
    """The tooltip of a card's score: what 1.00 means, and the passage's rank in each list."""
    ranks = ", ".join(f"{name} #{r}" for name, r in sorted((p.ranks or {}).items(), key=lambda t: (t[1], t[0])))
    if lang is not None:
        return qa_i18n.text("score_tip", lang) + (f" — {qa_i18n.text('ranks', lang)}: {ranks}" if ranks else "")
    return ("1.00 = first in every retrieval list that ran; relative, not a probability / "
            "1.00 = 每个检索列表都排第一；相对值，不是概率" + (f" — ranks: {ranks}" if ranks else ""))


def ask(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Path | None = None, lang: str = "en",
        regions=None, since=None, until=None, corpus: Path | None = None) -> tuple[str, str]:
    """HTML of the answer and of the passage cards (errors become a message, never a crash), in
    ``lang`` ("en" or "zh"); ``regions`` / ``since`` / ``until`` filter like ``qa.search``."""
    index = qa_api.index_dir(index)
    try:
        result = run_search(query, k, mode, sources, index, regions, since, until)
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
                      regions=None, since=None, until=None) -> list[dict]:
    result = run_search(query, k, mode, sources, index, regions, since, until)
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


def linked_markers(escaped: str, passages) -> str:
    """[n] in an escaped sentence -> a link to card n (a marker beyond the cards stays text)."""
    def link(m):
        n = int(m.group(1))
        if 1 <= n <= len(passages):
            return (f'<a class="qa-cite" href="#qa-card-{n}" title="{esc(passages[n - 1].citation)}">'
                    f'[{n}]</a>')
        return f'<span class="qa-cite-bad">[{n}]</span>'
    return _MARKER_SHOWN.sub(link, escaped)


def render_generated(query: str, a, result: dict) -> str:
    """HTML of a model's answer (``qa.generate.Answer``), partial while ``a.done`` is False."""
    if not result["passages"] or result["answered"] is False:
        return render_answer(query, result)
    passages = a.passages
    asked = f'<div class="qa-asked">Question: <q>{esc(query)}</q></div>'
    parts = []
    if a.generated or not a.done:
        for c in a.sentences:
            if c.ok:
                parts.append(f'<span class="qa-ok">{linked_markers(esc(c.sentence), passages)}</span>')
            else:
                parts.append(f'<del class="qa-unsupported" title="{esc(c.reason)}">'
                             f'{linked_markers(esc(c.sentence), passages)}</del>'
                             f'<span class="qa-warn">⚠ failed the check: {esc(c.reason)}</span>')
        if not a.done:
            parts.append('<span class="qa-writing">…</span>')
        gap = " " if qa_generate.question_language(query) == "en" else ""
        body = f'<p class="qa-sentence qa-generated-text">{gap.join(parts)}</p>'
    else:  # the model gave nothing usable: the extractive answer, then what it wrote and why not
        top = passages[0]
        body = (f'<p class="qa-sentence">{esc(top.answer or top.text)} '
                f'<a class="qa-cite" href="#qa-card-1" title="{esc(top.citation)}">[1]</a></p>')
        struck = [f'<del class="qa-unsupported" title="{esc(c.reason)}">{linked_markers(esc(c.sentence), passages)}'
                  f'</del><span class="qa-warn">⚠ {esc(c.reason)}</span>' for c in a.unsupported]
        if struck:
            body += f'<p class="qa-struck">The model wrote: {" ".join(struck)}</p>'
    model = esc(a.model or "the model")
    if not a.done:
        who = f'<b>{model}</b> is writing; each sentence appears once it has been checked against the passages.'
    elif a.generated:
        who = (f'Written by <b>{model}</b> from the passages below. Every number, percentage, year and place '
               'name was checked against the passage it cites; struck-through sentences failed the check.')
    else:
        who = f'Not written by <b>{model}</b>: the answering sentence of the best passage is shown.'
    cited = sorted(a.citations.items()) if a.done else []
    refs = "".join(f'<div class="qa-citation">[{n}] {esc(p.citation)}</div>' for n, p in cited)
    note = f'<div class="qa-note">⚠ {esc(a.note)}</div>' if a.note and a.done else ""
    return (f'<div class="qa-answer qa-llm{" qa-llm-writing" if not a.done else ""}">{asked}{body}'
            f'<div class="qa-model">{who}</div>{note}{refs}</div>')


def ask_llm(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Path | None = None, llm=None,
            lang: str = "en", corpus: Path | None = None, **where):
    """Like :func:`ask`, for the page with a model: yields (answer HTML, cards HTML) as the
    model's checked sentences arrive; the cards come with the first yield."""
    index = qa_api.index_dir(index)
    sources = list(sources) if sources else None
    try:
        parts = qa_generate.stream_answer(query, int(k), llm=llm, stream=True, mode=mode, index=index,
                                          sources=sources, **where)  # where: regions, since, until
        first = next(parts)
    except qa_store.IndexMissing:
        yield missing_index_html(index), ""
        return
    except qa_store.IndexDamaged as e:
        yield f'<div class="qa-answer qa-none"><b>The index cannot be read.</b> {esc(str(e))}</div>', ""
        return
    except (ValueError, TypeError) as e:
        yield f'<div class="qa-answer qa-none">{esc(str(e))}</div>', ""
        return
    result = {"passages": first.passages, "similarity": [p.similarity for p in first.passages],
              "answered": first.answered, "reason": first.reason}
    cards = render_cards(result, index, lang, corpus)
    yield render_generated(query, first, result), cards
    for a in parts:
        yield render_generated(query, a, result), cards


def answer_api_result(query: str, k=5, mode: str = "hybrid", sources=None, index=None, llm=None) -> dict:
    """``qa.answer()`` for the ``/answer`` endpoint: ``Answer.to_dict()``."""
    if isinstance(k, bool) or not isinstance(k, (int, float)) or k != int(k):
        raise ValueError(f"k must be an integer from 1 to 100, not {k!r}")
    if sources is not None and (not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)):
        raise ValueError(f"sources must be a list of file names (or null for all), not {sources!r}")
    return qa_generate.answer(query, int(k), llm=llm, mode=mode, index=qa_api.index_dir(index),
                              sources=sources or None).to_dict()


# --------------------------------------------------------------------------- documents


def _human(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.1f} MB"


def corpus_files(corpus: Path) -> list[str]:
    corpus = Path(corpus)
    if not corpus.is_dir():
        return []
    return [p.relative_to(corpus).as_posix() for p in qa_ingest.list_corpus(corpus)]


def indexed_files(index: Path) -> dict:
    try:
        return qa_store.StoredIndex.load(index).manifest.get("files", {})
    except qa_store.IndexDamaged:
        return {}


def list_documents(corpus: Path, index: Path) -> list[dict]:
    """Every bulletin in the corpus or the index, with its state."""
    corpus, index = Path(corpus), Path(index)
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


TABLE_HEADERS = ["File", "Title", "Passages", "Size", "Added", "State"]


def documents_view(corpus: Path, index: Path, lang: str = "en") -> str:
    """The documents table as HTML (qa.page.documents_html): each bulletin's name and articles."""
    try:
        info = qa_page.document_info(qa_api.get_retriever(index).store)
    except qa_store.IndexDamaged:
        info = {}
    return qa_page.documents_html(list_documents(corpus, index), info, lang, _human)


def documents_table(corpus: Path, index: Path) -> list[list]:
    return [[d["file"], d["title"], d["passages"], _human(d["size"]), d["added"], d["state"]]
            for d in list_documents(corpus, index)]


def _sha256_file(path: Path) -> str:
    st = path.stat()
    key = ("sha", str(path), st.st_size, st.st_mtime_ns)
    if key not in _caches:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _caches[key] = h.hexdigest()
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


def create_app(corpus: str | os.PathLike | None = None, index: str | os.PathLike | None = None,
               llm: qa_generate.LLMSettings | None = None) -> gr.Blocks:
    """The page.  ``llm``: the model that writes the answer (None: none, the extractive page)."""
    corpus, index = qa_api.corpus_dir(corpus), qa_api.index_dir(index)

    def indexed_choices():
        return sorted(indexed_files(index))

    def status_html(lang: str = "en"):
        if qa_store.live_version(index) is None:
            return missing_index_html(index, lang)
        return ""

    def refresh(lang: str = "en"):
        """The documents table, the delete and filter choices, the banner (after a corpus change)."""
        return (documents_view(corpus, index, lang), gr.Dropdown(choices=corpus_files(corpus), value=None),
                gr.Dropdown(choices=source_choices()), gr.Dropdown(choices=region_choices()), status_html(lang))

    def source_choices():
        """(bulletin name · file, file) of the indexed files: a reader knows a bulletin by its name."""
        try:
            info = qa_page.document_info(qa_api.get_retriever(index).store)
        except qa_store.IndexDamaged:
            info = {}
        out = []
        for name in indexed_choices():
            doc = (info.get(name) or {}).get("doc_title") or ""
            out.append((f"{doc} · {name}" if doc and doc != name else name, name))
        return out

    def region_choices():
        try:
            return qa_page.region_choices(qa_api.get_retriever(index).store)
        except qa_store.IndexDamaged:
            return []

    i18n = gr.I18n(**qa_i18n.ui_translations(", ".join(qa_ingest.SUFFIXES), _human(MAX_UPLOAD_BYTES)))
    with gr.Blocks(title="社会工作简报问答 · Bulletin QA", analytics_enabled=False) as demo:
        demo.qa_i18n, demo.qa_allowed_paths = i18n, [qa_page.corpus_path_allowed(corpus)]  # for launch()
        with gr.Column(elem_classes="qa-header"):
            gr.Markdown("# " + i18n("title"))
            gr.Markdown(i18n("subtitle"))
        banner = gr.HTML(status_html(), elem_id="status")
        browser_lang = gr.Textbox(visible="hidden", elem_id="qa-lang")
        with gr.Tabs():
            with gr.Tab(i18n("tab_ask"), id="ask"):
                with gr.Row(equal_height=False, elem_id="qa-ask-row"):
                    question = gr.Textbox(label=i18n("question"), placeholder=i18n("question_ph"),
                                          lines=1, max_lines=1, scale=6, elem_id="question", autofocus=True)
                    ask_btn = gr.Button(i18n("ask"), variant="primary", scale=1, min_width=120, elem_id="ask", size="lg")
                examples = gr.Examples(EXAMPLES, inputs=question, label=i18n("examples"), elem_id="examples")
                with gr.Row(elem_id="qa-options"):
                    k = gr.Dropdown(choices=list(range(1, 21)), value=5, label=i18n("k"), scale=1, min_width=110,
                                    elem_id="k")
                    mode = gr.Radio([(i18n("mode_" + m), m) for m in MODES], value="hybrid", label=i18n("mode"),
                                    scale=2, elem_id="mode")
                    sources = gr.Dropdown(choices=source_choices(), multiselect=True, value=[],
                                          label=i18n("sources"), scale=3, elem_id="sources")
                with gr.Row(elem_id="qa-filters"):
                    regions = gr.Dropdown(choices=region_choices(), multiselect=True, value=[],
                                          label=i18n("regions"), scale=3, elem_id="regions")
                    since = gr.Textbox(label=i18n("since"), placeholder=i18n("date_ph"), max_lines=1, scale=1,
                                       min_width=140, elem_id="since")
                    until = gr.Textbox(label=i18n("until"), placeholder=i18n("date_ph"), max_lines=1, scale=1,
                                       min_width=140, elem_id="until")
                answer = gr.HTML(elem_id="answer")
                cards = gr.HTML(elem_id="cards")
                with gr.Row(elem_id="qa-export"):
                    csv_btn = gr.DownloadButton(i18n("export_csv"), visible=False, size="sm", elem_id="export-csv")
                    md_btn = gr.DownloadButton(i18n("export_md"), visible=False, size="sm", elem_id="export-md")
            with gr.Tab(i18n("tab_docs"), id="docs"):
                gr.Markdown("### " + i18n("docs"))
                table = gr.HTML(documents_view(corpus, index), elem_id="documents")
                with gr.Row():
                    with gr.Column(scale=3):
                        files = gr.File(file_count="multiple", file_types=list(qa_ingest.SUFFIXES),
                                        label=i18n("upload"))
                    with gr.Column(scale=2):
                        add_btn = gr.Button(i18n("add"), variant="primary", elem_id="add")
                        upload_msg = gr.HTML(elem_id="upload-msg", elem_classes="qa-msg")  # text, never Markdown
                with gr.Row(elem_id="qa-delete-row"):
                    to_delete = gr.Dropdown(choices=corpus_files(corpus), label=i18n("to_delete"), scale=3,
                                            elem_id="to-delete")
                    del_btn = gr.Button(i18n("delete"), variant="stop", scale=1, elem_id="delete")
                with gr.Column(visible=False, elem_id="confirm-delete") as confirm_box:
                    confirm_msg = gr.HTML(elem_id="confirm-msg", elem_classes="qa-msg")
                    with gr.Row():
                        confirm_btn = gr.Button(i18n("confirm_delete"), variant="stop", elem_id="confirm-delete-btn")
                        cancel_btn = gr.Button(i18n("cancel"), elem_id="cancel-delete")
                with gr.Row():
                    scratch = gr.Checkbox(label=i18n("scratch"), value=False, scale=3)
                    rebuild_btn = gr.Button(i18n("rebuild"), variant="primary", scale=1, elem_id="rebuild")
                build_msg = gr.HTML(elem_id="build-msg", elem_classes="qa-msg")  # the one progress bar shows here

        listing = [table, to_delete, sources, regions, banner]

        # --- ask
        def on_ask(q, k_, mode_, sources_, regions_=None, since_=None, until_=None, request: gr.Request = None):
            return ask(q, int(k_), mode_, sources_, index, qa_i18n.lang_of(request), regions_, since_, until_, corpus)

        def on_ask_llm(q, k_, mode_, sources_, regions_=None, since_=None, until_=None, request: gr.Request = None):
            yield from ask_llm(q, int(k_), mode_, sources_, index, llm, lang=qa_i18n.lang_of(request), corpus=corpus,
                               regions=regions_ or None, since=since_ or None, until=until_ or None)

        ask_inputs = [question, k, mode, sources, regions, since, until]
        run = on_ask_llm if llm else on_ask

        def on_change(q, k_, mode_, sources_, regions_, since_, until_, request: gr.Request = None):
            """A changed k, mode or filter runs the current question again (none yet: nothing)."""
            if not (q or "").strip():
                yield gr.skip(), gr.skip()
                return
            rest = (k_, mode_, sources_, regions_, since_, until_)
            if llm:
                yield from on_ask_llm(q, *rest, request=request)
            else:
                yield on_ask(q, *rest, request=request)

        def on_export(q, k_, mode_, sources_, regions_, since_, until_, request: gr.Request = None):
            """The CSV and Markdown of the results shown (hidden when there are none)."""
            try:
                found = run_search(q, int(k_), mode_, sources_, index, regions_, since_ or None, until_ or None)
            except (ValueError, TypeError, qa_store.IndexDamaged):
                return gr.DownloadButton(visible=False), gr.DownloadButton(visible=False)
            if not found["passages"]:
                return gr.DownloadButton(visible=False), gr.DownloadButton(visible=False)
            c, m = qa_page.export_files(q, found["passages"], qa_i18n.lang_of(request))
            return gr.DownloadButton(value=c, visible=True), gr.DownloadButton(value=m, visible=True)

        def after(event):
            """What follows every search: the export files, then the answer scrolled into view."""
            event.then(on_export, ask_inputs, [csv_btn, md_btn], api_visibility="private", queue=False) \
                 .then(None, None, None, js=SCROLL_TO_ANSWER)

        after(gr.on([question.submit, ask_btn.click], run, ask_inputs, [answer, cards], api_visibility="private",
                    concurrency_id="search", concurrency_limit=4))
        after(gr.on([k.input, mode.input, sources.input, regions.input, since.submit, until.submit, since.blur,
                     until.blur], on_change, ask_inputs, [answer, cards], api_visibility="private",
                    concurrency_id="search", concurrency_limit=4))
        after(examples.load_input_event.then(run, ask_inputs, [answer, cards], api_visibility="private",
                                             concurrency_id="search", concurrency_limit=4))

        if llm:
            def answer_endpoint(query: str, k: int = 5, mode: str = "hybrid", sources: list[str] | None = None) -> dict:
                """The configured model's answer over the k best passages, checked against them:
                qa.answer()'s Answer as a dict (text, citations, generated, unsupported, note ...)."""
                try:
                    return answer_api_result(query, k, mode, sources, index, llm)
                except (ValueError, TypeError, qa_store.IndexDamaged) as e:
                    raise gr.Error(str(e)) from None

            gr.api(answer_endpoint, api_name="answer", concurrency_id="search", concurrency_limit=4)

        def search(query: str, k: int = 5, mode: str = "hybrid", sources: list[str] | None = None,
                   regions: list[str] | None = None, since: str | None = None, until: str | None = None) -> list[dict]:
            """The k passages that best answer the query, best first (Passage.to_dict() each, with
            doc_title, region, date, issuer; plus similarity, citation and answers: False when the
            bulletins do not seem to answer).  regions: places (湖北, 酒泉市); since / until: YYYY,
            YYYY-MM or YYYY-MM-DD (an article without a date is outside a date filter)."""
            try:
                if isinstance(k, bool) or not isinstance(k, (int, float)) or k != int(k):  # 2.5, True, "5"
                    raise ValueError(f"k must be an integer from 1 to 100, not {k!r}")
                if sources is not None and (not isinstance(sources, list)
                                            or not all(isinstance(s, str) for s in sources)):
                    raise ValueError(f"sources must be a list of file names (or null for all), not {sources!r}")
                if regions is not None and (not isinstance(regions, list)
                                            or not all(isinstance(r, str) for r in regions)):
                    raise ValueError(f"regions must be a list of place names (or null for all), not {regions!r}")
                return search_api_result(query, int(k), mode, sources, index, regions or None, since or None,
                                         until or None)
            except (ValueError, TypeError, qa_store.IndexDamaged) as e:
                raise gr.Error(str(e)) from None

        gr.api(search, api_name="search", concurrency_id="search", concurrency_limit=4)

        def documents() -> list[dict]:
            """The bulletins of the corpus and the index: file, title, passages, size, added, state."""
            return list_documents(corpus, index)

        gr.api(documents, api_name="documents")

        # --- corpus changes (one at a time)
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
                msgs.append(save_upload(corpus, p.name, data)[1])
            msg = "<br>".join(esc(qa_i18n.translate(m, lang)) for m in msgs) or esc(qa_i18n.text("choose_files", lang))
            return (msg, None, *refresh(lang), "", gr.Column(visible=False))  # the rebuild's message is stale now

        add_btn.click(on_upload, [files], [upload_msg, files, *listing, build_msg, confirm_box], api_name="upload",
                      concurrency_id="corpus", concurrency_limit=1)

        def add_document(filename: str, content_base64: str) -> dict:
            """Add one bulletin given its file name and its bytes in base64: {saved, file, message}."""
            try:
                data = base64.b64decode(content_base64 or "", validate=True)
            except (binascii.Error, ValueError):
                return {"saved": False, "file": filename, "message": "✗ the content is not valid base64"}
            saved, message = save_upload(corpus, filename, data)
            return {"saved": saved, "file": filename, "message": message}

        gr.api(add_document, api_name="add_document", concurrency_id="corpus", concurrency_limit=1)

        def on_ask_delete(name, request: gr.Request = None):
            """Delete asks first: the confirmation names the file (as text)."""
            lang = qa_i18n.lang_of(request)
            if not name:
                return gr.Column(visible=False), "", esc(qa_i18n.text("pick_first", lang))
            return gr.Column(visible=True), esc(qa_i18n.text("confirm_delete", lang, name=name)), ""

        del_btn.click(on_ask_delete, [to_delete], [confirm_box, confirm_msg, upload_msg], api_visibility="private",
                      queue=False)
        cancel_btn.click(lambda: (gr.Column(visible=False), ""), None, [confirm_box, confirm_msg],
                         api_visibility="private", queue=False)

        def on_delete(name, request: gr.Request = None):
            lang = qa_i18n.lang_of(request)
            return (esc(qa_i18n.translate(delete_document(corpus, name)[1], lang)), *refresh(lang), "",
                    gr.Column(visible=False))

        confirm_btn.click(on_delete, [to_delete], [upload_msg, *listing, build_msg, confirm_box],
                          api_name="delete_selected", concurrency_id="corpus", concurrency_limit=1)

        def delete(filename: str) -> dict:
            """Delete one bulletin of the corpus by its file name: {deleted, file, message}.  The name is
            checked here against the corpus as it is now (not against a dropdown's choices)."""
            deleted, message = delete_document(corpus, filename if isinstance(filename, str) else "")
            return {"deleted": deleted, "file": filename, "message": message}

        gr.api(delete, api_name="delete", concurrency_id="corpus", concurrency_limit=1)

        # --- rebuild (one at a time)
        def on_rebuild(from_scratch, request: gr.Request = None, progress=gr.Progress()):
            lang = qa_i18n.lang_of(request)
            progress(0, desc=qa_i18n.text("starting", lang))
            msg = esc(qa_i18n.translate(rebuild_index(corpus, index, from_scratch, progress, lang), lang))
            msg = msg.replace("\n", "<br>")  # shown as text: escaped, lines kept, never Markdown
            return (msg, *refresh(lang), "")  # the upload's "press Rebuild" is stale now

        # one progress bar, on the message (not on every output: the table, the dropdowns, the banner)
        rebuild_btn.click(on_rebuild, [scratch], [build_msg, *listing, upload_msg], api_name="rebuild",
                          concurrency_id="build", concurrency_limit=1, show_progress_on=[build_msg])

        def on_load(language, request: gr.Request = None):
            return refresh(qa_i18n.remember(request, language))

        # the browser's language (navigator.language, which Gradio's own labels follow) is noted for the
        # session, so that what the server writes (answers, cards, messages) is in the same language
        demo.load(None, None, [browser_lang], js="() => navigator.language || ''", api_visibility="private") \
            .then(on_load, [browser_lang], listing, api_visibility="private")
    return demo


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, auth=None, **kwargs):
    """Queue + launch with the page's settings (never shared)."""
    demo.queue(default_concurrency_limit=1, max_size=64)
    return demo.launch(server_name=host, server_port=port, share=False, auth=auth,
                       auth_message="Bulletin QA: sign in with BULLETIN_QA_USER / BULLETIN_QA_PASSWORD",
                       max_file_size=2 * MAX_UPLOAD_BYTES, ssr_mode=False, show_error=True,
                       footer_links=["api"], theme=theme(), css=CSS, head=HEAD, inbrowser=False,
                       i18n=getattr(demo, "qa_i18n", None),
                       allowed_paths=getattr(demo, "qa_allowed_paths", None), **kwargs)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="app.py", description="Serve the bulletin question page.")
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
    if qa_store.live_version(index) is None:
        print(f"note: no index in {index} yet: build it from the page's Documents tab (Rebuild index) "
              "or with `bulletin-qa index`", file=sys.stderr)
    if llm:
        print(f"note: answers are written by {llm.model or 'the first model listed'} at {llm.where} and checked "
              "against the passages", file=sys.stderr)
    launch(create_app(corpus, index, llm=llm), args.host, args.port, auth=auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
