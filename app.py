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

The index is not built on start: with no index the page says how to build it (the
Documents tab's "Rebuild index" button, or ``bulletin-qa index``).

Named API endpoints (gradio_client): ``/search``, ``/documents``, ``/upload``,
``/add_document``, ``/delete``, ``/rebuild``.
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

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import gradio as gr  # noqa: E402

from qa import api as qa_api  # noqa: E402
from qa import ingest as qa_ingest  # noqa: E402
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

MAX_UPLOAD_BYTES = int(os.environ.get("BULLETIN_QA_MAX_UPLOAD_BYTES") or 5 * 1024 * 1024)
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


def run_search(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Path | None = None) -> dict:
    """Passages plus the library's verdict (``answered``, ``reason``)."""
    index = qa_api.index_dir(index)
    sources = list(sources) if sources else None
    passages = qa_api.search(query, k=int(k), mode=mode, index=index, sources=sources)
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


def render_answer(query: str, result: dict) -> str:
    passages = result["passages"]
    asked = f'<div class="qa-asked">Question: <q>{esc(query)}</q></div>'
    if not passages:
        return (f'<div class="qa-answer qa-none">{asked}<p><b>No passage found.</b> '
                'The bulletins (or the documents you picked) do not contain anything to show.</p></div>')
    top = passages[0]
    if result["answered"] is False:
        return (f'<div class="qa-answer qa-none">{asked}<p><b>The bulletins do not seem to answer this question:</b> '
                f'{esc(result["reason"])}. The nearest passages are shown below, but they are not an answer.</p></div>')
    sentence = top.answer or top.text
    return (f'<div class="qa-answer">{asked}<p class="qa-sentence">{esc(sentence)} '
            f'<a class="qa-cite" href="#qa-card-1" title="{esc(top.citation)}">[1]</a></p>'
            f'<div class="qa-citation">[1] {esc(top.citation)}</div></div>')


def render_cards(result: dict, index: Path) -> str:
    passages = result["passages"]
    if not passages:
        return ""
    nearest = result["answered"] is False
    out = []
    if nearest:
        out.append('<div class="qa-nearest-note">Nearest passages (not an answer):</div>')
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
            context = (f'<details class="qa-context"><summary>Show in full article '
                       f'({esc(p.source)}, lines {a}–{b})</summary><div class="qa-article">'
                       f'<div class="qa-article-title">{esc(title)}</div>{body}</div></details>')
        sim_txt = f" · similarity {sim:.3f}" if sim is not None else ""
        badge = '<span class="qa-badge">nearest, not an answer</span>' if nearest else ""
        out.append(
            f'<div class="qa-card{" qa-card-nearest" if nearest else ""}" id="qa-card-{p.rank}">'
            f'<div class="qa-card-head"><span class="qa-rank">[{p.rank}]</span> '
            f'<span class="qa-title">{esc(p.title or "(untitled)")}</span>{badge}</div>'
            f'<div class="qa-meta">{esc(p.source)}{page_label(p)} · lines {p.start_line}–{p.end_line} · '
            f'<span class="qa-score" title="{esc(score_title(p))}">score {p.score:.2f}</span>{sim_txt}</div>'
            f'<div class="qa-text">{marked(p.text, p.highlight)}</div>{context}</div>')
    out.append(f'<div class="qa-meta qa-score-note">{esc(SCORE_NOTE)}</div>')
    return "\n".join(out)


SCORE_NOTE = ("Score: 1.00 = ranked first by every retrieval list that ran (in dense or lexical mode, by its one "
              "list); relative to this question, not a probability. "
              "得分：1.00 = 在参与检索的每个列表中都排第一（稠密或词法模式只有一个列表）；仅在本问题的结果之间比较，不是概率。")


def score_title(p) -> str:
    """The tooltip of a card's score: what 1.00 means, and the passage's rank in each list."""
    ranks = ", ".join(f"{name} #{r}" for name, r in sorted((p.ranks or {}).items(), key=lambda t: (t[1], t[0])))
    return ("1.00 = first in every retrieval list that ran; relative, not a probability / "
            "1.00 = 每个检索列表都排第一；相对值，不是概率" + (f" — ranks: {ranks}" if ranks else ""))


def ask(query: str, k: int = 5, mode: str = "hybrid", sources=None, index: Path | None = None) -> tuple[str, str]:
    """HTML of the answer and of the passage cards (errors become a message, never a crash)."""
    index = qa_api.index_dir(index)
    try:
        result = run_search(query, k, mode, sources, index)
    except qa_store.IndexMissing:
        return missing_index_html(index), ""
    except qa_store.IndexDamaged as e:
        return f'<div class="qa-answer qa-none"><b>The index cannot be read.</b> {esc(str(e))}</div>', ""
    except (ValueError, TypeError) as e:
        return f'<div class="qa-answer qa-none">{esc(str(e))}</div>', ""
    return render_answer(query, result), render_cards(result, index)


def missing_index_html(index: Path) -> str:
    return ('<div class="qa-answer qa-none"><b>No index has been built yet.</b> Open the <b>Documents</b> tab '
            'and press <b>Rebuild index</b>, or run <code>bulletin-qa index</code> (<code>make index</code>) '
            f'in a terminal. Index folder: <code>{esc(str(index))}</code></div>')


def search_api_result(query: str, k: int = 5, mode: str = "hybrid", sources=None, index=None) -> list[dict]:
    result = run_search(query, k, mode, sources, index)
    out = []
    for p, sim in zip(result["passages"], result["similarity"]):
        d = p.to_dict()
        d["similarity"] = sim
        d["answers"] = result["answered"]
        d["reason"] = result["reason"]
        out.append(d)
    return out


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


def rebuild_index(corpus: Path, index: Path, from_scratch: bool = False, progress=None) -> str:
    labels = {"read": ("reading files", "files"), "embed": ("embedding passages", "passages"),
              "embed sentences": ("embedding sentences", "sentences")}

    def report(stage, done, total):
        if progress is not None:
            desc, unit = labels.get(stage, (str(stage), "steps"))
            progress((done, total), desc=f"{desc}: {done}/{total}", unit=unit)

    try:
        Path(corpus).mkdir(parents=True, exist_ok=True)
        rep = qa_api.build(corpus, index, rebuild=bool(from_scratch), progress=report, wait=0)
    except RuntimeError as e:
        return f"✗ not rebuilt: {e}"
    except (FileNotFoundError, OSError, ValueError) as e:
        return f"✗ not rebuilt: {e}"
    msg = f"✓ index rebuilt: {rep.summary()}"
    if rep.skipped:
        msg += "\n\n" + "\n".join(f"- ⚠ {esc(s)}" for s in rep.skipped)
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
"""

FONTS = ["system-ui", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]


def theme():
    return gr.themes.Soft(primary_hue="teal", font=FONTS, font_mono=["ui-monospace", "monospace"])


def create_app(corpus: str | os.PathLike | None = None, index: str | os.PathLike | None = None) -> gr.Blocks:
    corpus, index = qa_api.corpus_dir(corpus), qa_api.index_dir(index)

    def indexed_choices():
        return sorted(indexed_files(index))

    def status_html():
        if qa_store.live_version(index) is None:
            return missing_index_html(index)
        return ""

    def refresh():
        choices = indexed_choices()
        return (documents_table(corpus, index), gr.Dropdown(choices=corpus_files(corpus), value=None),
                gr.Dropdown(choices=choices), status_html())

    with gr.Blocks(title="Bulletin QA · 社会工作简报问答", analytics_enabled=False) as demo:
        gr.HTML('<div class="qa-header"><h1>Bulletin QA · 社会工作简报问答</h1>'
                '<p>Ask in Chinese or English; every answer is a cited sentence from the bulletins.</p></div>')
        banner = gr.HTML(status_html(), elem_id="status")
        with gr.Tabs():
            with gr.Tab("Ask 提问", id="ask"):
                with gr.Row(equal_height=False):
                    question = gr.Textbox(label="Question 问题", placeholder="例如：甘肃酒泉 certified-worker goal — press Enter",
                                          lines=1, max_lines=1, scale=6, elem_id="question", autofocus=True)
                    ask_btn = gr.Button("Ask 提问", variant="primary", scale=1, min_width=120, elem_id="ask", size="lg")
                gr.Examples(EXAMPLES, inputs=question, label="Examples 示例")
                with gr.Row():
                    k = gr.Slider(1, 20, value=5, step=1, label="Passages (top-k)", scale=2)
                    mode = gr.Radio(MODES, value="hybrid", label="Retrieval", scale=2)
                    sources = gr.Dropdown(choices=indexed_choices(), multiselect=True, value=[],
                                          label="Only these documents (empty = all)", scale=3)
                answer = gr.HTML(elem_id="answer")
                cards = gr.HTML(elem_id="cards")
            with gr.Tab("Documents 文档", id="docs"):
                table = gr.Dataframe(value=documents_table(corpus, index), headers=TABLE_HEADERS,
                                     datatype=["str"] * 6, interactive=False, wrap=True, label="Bulletins")
                with gr.Row():
                    with gr.Column(scale=3):
                        files = gr.File(file_count="multiple", file_types=list(qa_ingest.SUFFIXES),
                                        label=f"Upload bulletins ({', '.join(qa_ingest.SUFFIXES)}; "
                                              f"at most {_human(MAX_UPLOAD_BYTES)} each)")
                    with gr.Column(scale=2):
                        add_btn = gr.Button("Add to corpus", variant="primary", elem_id="add")
                        upload_msg = gr.Markdown(elem_id="upload-msg")
                with gr.Row():
                    to_delete = gr.Dropdown(choices=corpus_files(corpus), label="Bulletin to delete", scale=3)
                    del_btn = gr.Button("Delete", variant="stop", scale=1)
                with gr.Row():
                    scratch = gr.Checkbox(label="From scratch (re-embed every file)", value=False, scale=3)
                    rebuild_btn = gr.Button("Rebuild index", variant="primary", scale=1, elem_id="rebuild")
                build_msg = gr.Markdown(elem_id="build-msg")

        listing = [table, to_delete, sources, banner]

        # --- ask
        def on_ask(q, k_, mode_, sources_):
            return ask(q, int(k_), mode_, sources_, index)

        gr.on([question.submit, ask_btn.click], on_ask, [question, k, mode, sources], [answer, cards],
              api_visibility="private", concurrency_id="search", concurrency_limit=4)

        def search(query: str, k: int = 5, mode: str = "hybrid", sources: list[str] | None = None) -> list[dict]:
            """The k passages that best answer the query, best first (Passage.to_dict() each, plus
            similarity, citation and answers: False when the bulletins do not seem to answer)."""
            try:
                return search_api_result(query, int(k), mode, sources, index)
            except (ValueError, TypeError, qa_store.IndexDamaged) as e:
                raise gr.Error(str(e)) from None

        gr.api(search, api_name="search", concurrency_id="search", concurrency_limit=4)

        def documents() -> list[dict]:
            """The bulletins of the corpus and the index: file, title, passages, size, added, state."""
            return list_documents(corpus, index)

        gr.api(documents, api_name="documents")

        # --- corpus changes (one at a time)
        def on_upload(paths):
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
            msg = "\n\n".join(esc(m) for m in msgs) or "Choose one or more files first."
            return (msg, None, *refresh())

        add_btn.click(on_upload, [files], [upload_msg, files, *listing], api_name="upload",
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

        def on_delete(name):
            return (esc(delete_document(corpus, name)[1]), *refresh())

        del_btn.click(on_delete, [to_delete], [upload_msg, *listing], api_name="delete",
                      concurrency_id="corpus", concurrency_limit=1)

        # --- rebuild (one at a time)
        def on_rebuild(from_scratch, progress=gr.Progress()):
            progress(0, desc="starting")
            return (rebuild_index(corpus, index, from_scratch, progress), *refresh())

        rebuild_btn.click(on_rebuild, [scratch], [build_msg, *listing], api_name="rebuild",
                          concurrency_id="build", concurrency_limit=1)

        demo.load(refresh, None, listing, api_visibility="private")
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
                       footer_links=["api"], theme=theme(), css=CSS, inbrowser=False, **kwargs)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="app.py", description="Serve the bulletin question page.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other needs BULLETIN_QA_USER/PASSWORD)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--corpus", help="bulletin folder (default: corpus/ or $BULLETIN_QA_CORPUS)")
    p.add_argument("--index", help="index folder (default: index/ or $BULLETIN_QA_INDEX)")
    args = p.parse_args(argv)
    auth = None
    if not is_loopback(args.host):
        user, password = os.environ.get("BULLETIN_QA_USER"), os.environ.get("BULLETIN_QA_PASSWORD")
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
    launch(create_app(corpus, index), args.host, args.port, auth=auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
