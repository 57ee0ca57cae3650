"""The question page: a Gradio app over the bulletin index, and its entry (``main``).

The page's parts, one module each: ``layout`` (the components), ``wiring`` (their events and
the named endpoints), ``handlers`` (what an event does: search, answer, rebuild), ``render``
(answer and cards as HTML), ``documents`` (the Documents tab), ``export`` (CSV and Markdown),
``originals`` (the route to the corpus files), ``live`` (its reads of the live index), ``i18n``
(its words) and ``static/`` (its CSS and script).

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
``Page`` (folders, corpus, model, components) and wires them (``wire_ask``, ``wire_api``,
``wire_upload``, ``wire_delete``, ``wire_rebuild_and_load``); ``launch`` adds the original-file
route (``serve_originals``).

Named API endpoints (gradio_client): ``/search``, ``/documents``, ``/upload``,
``/add_document``, ``/delete``, ``/delete_selected``, ``/rebuild``; with a model configured also
``/answer``.  With ``--llm-url`` (or ``BULLETIN_QA_LLM_URL``) a model the user runs writes the
answer above the cards, streamed and checked sentence by sentence (``qa/generate/llm.py``).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import threading
from pathlib import Path

from qa.settings import Settings  # importing qa sets the offline flags (qa.settings.offline)

import gradio as gr  # noqa: E402 - after the offline flags

from qa.app.api import Index  # noqa: E402
from qa.generate import llm as qa_generate  # noqa: E402
from qa.app.web import i18n as qa_i18n  # noqa: E402
from qa.app.web.handlers import status_html, warm  # noqa: E402
from qa.app.web.live import indexed_files  # noqa: E402
from qa.app.web.layout import Page, ask_tab, docs_tab, static, theme  # noqa: E402
from qa.app.web.originals import serve_originals  # noqa: E402
from qa.app.web.export import MAX_AGE  # noqa: E402
from qa.app.web.wiring import wire_api, wire_ask, wire_delete, wire_rebuild_and_load, wire_upload  # noqa: E402
from qa.ingest.corpus import Corpus, human_size  # noqa: E402
from qa.ingest.read import SUFFIXES  # noqa: E402


def create_app(corpus: str | os.PathLike | None = None, index: "str | os.PathLike | Index | None" = None,
               llm: qa_generate.LLMSettings | None = None, settings: Settings | None = None) -> gr.Blocks:
    """The page.  ``index``: a location or a qa.Index (its searches and rebuilds); ``llm``: the
    model that writes the answer (None: none, the extractive page); ``settings``: default the
    environment's, read here once (the upload limit, the read limits, the index's)."""
    settings = settings if settings is not None else Settings.from_env()
    index = index if isinstance(index, Index) else Index(index, corpus=corpus, settings=settings)
    folder = Path(corpus) if corpus else index.corpus
    library = Corpus(folder, max_upload_bytes=settings.max_upload_bytes, settings=settings)
    page = Page(folder, index, library, llm)
    i18n = gr.I18n(**qa_i18n.ui_translations(", ".join(SUFFIXES), human_size(library.max_upload_bytes)))
    # Gradio's copies of the exports (and of uploads) are deleted after an hour, checked every 10 minutes
    with gr.Blocks(title="社会工作简报问答 · Bulletin QA", analytics_enabled=False,
                   delete_cache=(600, MAX_AGE)) as demo:
        demo.qa_i18n, demo.qa_library = i18n, library  # for launch()
        demo.qa_indexed = lambda: indexed_files(index)  # the files the index cites (deleted ones too)
        demo.qa_index = index  # warmed by launch()
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
    library = getattr(demo, "qa_library", None)
    demo.queue(default_concurrency_limit=1, max_size=64)
    out = demo.launch(server_name=host, server_port=port, share=False, auth=auth,
                      auth_message="Bulletin QA: sign in with BULLETIN_QA_USER / BULLETIN_QA_PASSWORD",
                      max_file_size=2 * library.max_upload_bytes if library else None, ssr_mode=False,
                      show_error=True, footer_links=["api"], theme=theme(), css=static("page.css"),
                      head=f"<script>\n{static('page.js')}</script>", inbrowser=False,
                      i18n=getattr(demo, "qa_i18n", None), prevent_thread_lock=True, **kwargs)
    if library is not None:
        serve_originals(demo, library, getattr(demo, "qa_indexed", lambda: {}))
    if getattr(demo, "qa_index", None) is not None:  # the first question need not load everything
        threading.Thread(target=warm, args=(demo.qa_index,), name="bulletin-qa-warm", daemon=True).start()
    if block:
        demo.block_thread()
    return out


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    """``bulletin-qa serve``: the environment is read here once (or given by the CLI, ``settings``)."""
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
        settings = settings if settings is not None else Settings.from_env()
        llm = qa_generate.llm_settings(args.llm_url, args.llm_model, timeout=args.llm_timeout, settings=settings)
    except ValueError as e:
        print(f"error: {(settings or Settings()).redact(str(e), args.index or '')}", file=sys.stderr)
        return 2
    auth = None
    if not is_loopback(args.host):
        user, password = settings.user, settings.password
        if not user or not password:
            print(f"error: refusing to listen on {args.host}, which other machines can reach, without a login: "
                  "set BULLETIN_QA_USER and BULLETIN_QA_PASSWORD in the environment (or use --host 127.0.0.1)",
                  file=sys.stderr)
            return 2
        auth = (user, password)
    index = Index(args.index, corpus=args.corpus, settings=settings)
    corpus = index.corpus
    corpus.mkdir(parents=True, exist_ok=True)
    if not index.has_live():
        print(f"note: no index in {index.describe()} yet: build it from the page's Documents tab (Rebuild index) "
              "or with `bulletin-qa index`", file=sys.stderr)
    if llm:
        print(f"note: answers are written by {llm.model or 'the first model listed'} at {llm.where} and checked "
              "against the passages", file=sys.stderr)
    launch(create_app(corpus, index, llm=llm, settings=settings), args.host, args.port, auth=auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
