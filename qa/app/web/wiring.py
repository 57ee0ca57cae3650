"""The page's events: what each component does (qa/app/web/handlers.py) and the named API
endpoints for gradio_client."""

from __future__ import annotations

import base64
import binascii
import math
from pathlib import Path

import gradio as gr

from qa.app.web import i18n as qa_i18n
from qa.app.web.documents import (delete_choices, documents_api_result, documents_view, region_choices,
                                  source_choices)
from qa.app.web.export import export_files
from qa.app.web.handlers import (answer_api_result, ask, ask_llm, rebuild_index, run_search, search_api_result,
                                 status_html)
from qa.app.web.layout import Page, static
from qa.app.web.live import live_passages
from qa.app.web.render import esc
from qa.index.base import IndexDamaged
from qa.ingest.corpus import failed, human_size, too_large
from qa.messages import Msg
from qa.retrieve.retriever import bad_k


# the queue's slots: searches and model answers have their own, so a model that hangs (until the
# answer's deadline) never holds a search (qa/generate/llm.py's deadline bounds how long it holds one)
SEARCH_SLOTS = 4
ANSWER_SLOTS = 4


def refresh(page: Page, lang: str = "en") -> tuple:
    """The documents table, the delete and filter choices, the banner (after a corpus change):
    the values of ``page.c.listing``."""
    return (documents_view(page.library, page.index, lang),
            gr.Dropdown(choices=delete_choices(page.library, page.index), value=None),
            gr.Dropdown(choices=source_choices(page.index)),
            gr.Dropdown(choices=region_choices(live_passages(page.index))), status_html(page.index, lang))


def ask_handler(page: Page):
    """The handler of a search from the page: (answer, cards) HTML in the browser's language; with
    a model, a generator streaming the checked answer."""
    def on_ask(q, k_, mode_, sources_, regions_=None, since_=None, until_=None, strictness_="normal",
               request: gr.Request = None):
        return ask(q, int(k_), mode_, sources_, page.index, page.lang_of(request), regions_, since_, until_,
                   page.corpus, strictness_ or "normal")

    def on_ask_llm(q, k_, mode_, sources_, regions_=None, since_=None, until_=None, strictness_="normal",
                   request: gr.Request = None):
        updates = ask_llm(q, int(k_), mode_, sources_, page.index, page.llm, lang=page.lang_of(request),
                          corpus=page.corpus, regions=regions_ or None, since=since_ or None,
                          until=until_ or None, strictness=strictness_ or "normal")
        for n, (answer, cards) in enumerate(updates):  # the cards once: later updates send the answer only
            yield answer, cards if n == 0 else gr.skip()

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
        except (ValueError, TypeError, IndexDamaged):
            return hidden
        if not found["passages"]:
            return hidden
        csv_path, md_path = export_files(q, found["passages"], page.lang_of(request))
        return gr.DownloadButton(value=csv_path, visible=True), gr.DownloadButton(value=md_path, visible=True)

    def after(event):
        # in the queue, one at a time (issue 31: outside it, 200 calls wrote 14.6 MB in 9.4 s)
        event.then(on_export, inputs, [c.csv_btn, c.md_btn], api_visibility="private", concurrency_id="export",
                   concurrency_limit=1) \
             .then(None, None, None, js=static("scroll_to_answer.js"))

    def on_unfilter(q, k_, mode_, sources_, regions_, since_, until_, strictness_, request: gr.Request = None):
        """"Search without the filters" (offered by a refusal under a filter): the filters are
        emptied; a cleared document or region list re-runs the question through its change event,
        else (only dates were set) the question is run here."""
        cleared = ([] if sources_ else gr.skip(), [] if regions_ else gr.skip(), "", "")
        if sources_ or regions_:
            yield (*cleared, gr.skip(), gr.skip())
            return
        for out in on_change(q, k_, mode_, None, None, "", "", strictness_, request=request):
            yield (*cleared, *out)

    search = dict(api_visibility="private", concurrency_id="answer" if page.llm else "search",
                  concurrency_limit=ANSWER_SLOTS if page.llm else SEARCH_SLOTS)
    after(gr.on([c.question.submit, c.ask_btn.click], run, inputs, [c.answer, c.cards], **search))
    # the lists' change, not their input: the clear-all "×" of a multiselect sends only a change
    # (Gradio's Dropdown), and a change made while a search runs is searched after it (always_last)
    after(gr.on([c.k.input, c.mode.input, c.strictness.input, c.sources.change, c.regions.change, c.since.submit,
                 c.until.submit, c.since.blur, c.until.blur], on_change, inputs, [c.answer, c.cards],
                trigger_mode="always_last", **search))
    after(c.examples.load_input_event.then(run, inputs, [c.answer, c.cards], **search))
    after(c.unfilter_btn.click(on_unfilter, inputs, [c.sources, c.regions, c.since, c.until, c.answer, c.cards],
                               **search))


def whole_k(k) -> int:
    """k from an API call: a whole number (2.5, True, "5", Infinity and NaN are refused with a
    ValueError, which the endpoint turns into its one-line error)."""
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not math.isfinite(k) or k != int(k):
        raise ValueError(bad_k(k))
    return int(k)


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
            except (ValueError, TypeError, IndexDamaged) as e:
                raise gr.Error(page.index.redact(e)) from None

        gr.api(answer_endpoint, api_name="answer", concurrency_id="answer", concurrency_limit=ANSWER_SLOTS)

    def search(query: str, k: int = 5, mode: str = "hybrid", sources: list[str] | None = None,
               regions: list[str] | None = None, since: str | None = None, until: str | None = None,
               strictness: str = "normal") -> list[dict]:
        """The k passages that best answer the query, best first (Passage.to_dict() each, with
        doc_title, region, date, issuer; plus similarity, citation and answers: False when the
        bulletins do not seem to answer).  regions: places (湖北, 酒泉市); since / until: YYYY,
        YYYY-MM or YYYY-MM-DD (an article without a date is outside a date filter); strictness:
        lenient, normal or strict, how close a passage must be to count as an answer."""
        try:
            whole_k(k)
            _list_of_str(sources, "file names", "sources")
            _list_of_str(regions, "place names", "regions")
            return search_api_result(query, int(k), mode, sources, page.index, regions or None, since or None,
                                     until or None, strictness or "normal")
        except (ValueError, TypeError, IndexDamaged) as e:
            raise gr.Error(page.index.redact(e)) from None

    gr.api(search, api_name="search", concurrency_id="search", concurrency_limit=SEARCH_SLOTS)

    def documents(query: str = "") -> list[dict]:
        """The bulletins of the corpus and the index: file, title, passages, size, added, state, and
        doc_title, regions and articles (title, region, date, start_line, end_line); query: keep
        those whose file name, name, regions or article titles contain its words."""
        return documents_api_result(page.library, page.index, query if isinstance(query, str) else "")

    gr.api(documents, api_name="documents")


def wire_upload(page: Page) -> None:
    """Upload from the page (/upload) and from a script (/add_document), one corpus change at a time."""
    c = page.c

    def on_upload(paths, request: gr.Request = None):
        lang = page.lang_of(request)
        msgs = []
        for p in paths or []:
            p = Path(p)
            try:
                size = p.stat().st_size
                if size > page.library.max_upload_bytes:
                    limit = human_size(page.library.max_upload_bytes)
                    msgs.append(failed(too_large(p.name, human_size(size), limit)))
                    continue
                data = p.read_bytes()
            except OSError as e:
                msgs.append(failed(Msg("upload.unreadable", "{name}: cannot read the upload ({e})",
                                       "{name}：无法读取上传的文件（{e}）", name=p.name, e=str(e))))
                continue
            msgs.append(page.library.add(p.name, data)[1])
        msg = "<br>".join(esc(qa_i18n.say(m, lang)) for m in msgs) or esc(qa_i18n.text("choose_files", lang))
        return (msg, None, *refresh(page, lang), "", gr.Column(visible=False))  # the rebuild's message is stale

    c.add_btn.click(on_upload, [c.files], [c.upload_msg, c.files, *c.listing, c.build_msg, c.confirm_box],
                    api_name="upload", concurrency_id="corpus", concurrency_limit=1)

    def add_document(filename: str, content_base64: str) -> dict:
        """Add one bulletin given its file name and its bytes in base64: {saved, file, message}."""
        if not isinstance(filename, str) or not isinstance(content_base64, (str, type(None))):
            return {"saved": False, "file": filename if isinstance(filename, str) else repr(filename),
                    "message": "✗ filename and content_base64 must be text (the content as base64)"}
        try:
            data = base64.b64decode(content_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            return {"saved": False, "file": filename, "message": failed(Msg("upload.base64", "the content is not valid base64",
                                                                            "内容不是有效的 base64"))}
        saved, message = page.library.add(filename, data)
        return {"saved": saved, "file": filename, "message": message}

    gr.api(add_document, api_name="add_document", concurrency_id="corpus", concurrency_limit=1)


def wire_delete(page: Page) -> None:
    """Delete asks first (the confirmation names the file, as text); /delete for scripts."""
    c = page.c

    def on_ask_delete(name, request: gr.Request = None):
        lang = page.lang_of(request)
        if not name:
            return gr.Column(visible=False), "", esc(qa_i18n.text("pick_first", lang))
        return gr.Column(visible=True), esc(qa_i18n.text("confirm_delete", lang, name=name)), ""

    c.del_btn.click(on_ask_delete, [c.to_delete], [c.confirm_box, c.confirm_msg, c.upload_msg],
                    api_visibility="private", queue=False)
    c.cancel_btn.click(lambda: (gr.Column(visible=False), ""), None, [c.confirm_box, c.confirm_msg],
                       api_visibility="private", queue=False)

    def on_delete(name, request: gr.Request = None):
        lang = page.lang_of(request)
        return (esc(qa_i18n.say(page.library.delete(name)[1], lang)), *refresh(page, lang), "",
                gr.Column(visible=False))

    c.confirm_btn.click(on_delete, [c.to_delete], [c.upload_msg, *c.listing, c.build_msg, c.confirm_box],
                        api_name="delete_selected", concurrency_id="corpus", concurrency_limit=1)

    def delete(filename: str) -> dict:
        """Delete one bulletin of the corpus by its file name: {deleted, file, message}.  The name is
        checked here against the corpus as it is now (not against a dropdown's choices)."""
        deleted, message = page.library.delete(filename if isinstance(filename, str) else "")
        return {"deleted": deleted, "file": filename, "message": message}

    gr.api(delete, api_name="delete", concurrency_id="corpus", concurrency_limit=1)


def wire_rebuild_and_load(page: Page, demo: gr.Blocks) -> None:
    """Rebuild (one at a time, one progress bar on its message) and the page's load: the browser's
    language (navigator.language, which Gradio's own labels follow) is noted for the session, so
    that what the server writes (answers, cards, messages) is in the same language."""
    c = page.c

    def on_rebuild(from_scratch, request: gr.Request = None, progress=gr.Progress()):
        lang = page.lang_of(request)
        progress(0, desc=qa_i18n.text("starting", lang))
        msg = esc(page.index.redact(qa_i18n.say(rebuild_index(page.corpus, page.index, from_scratch, progress, lang),
                                                lang)))
        msg = msg.replace("\n", "<br>")  # shown as text: escaped, lines kept, never Markdown
        return (msg, *refresh(page, lang), "")  # the upload's "press Rebuild" is stale now

    # in the corpus's queue, behind an upload or a delete pressed before it (issue 31: Rebuild pressed
    # while an upload was checked rebuilt the old corpus, and the upload's message then wiped its own)
    c.rebuild_btn.click(on_rebuild, [c.scratch], [c.build_msg, *c.listing, c.upload_msg], api_name="rebuild",
                        concurrency_id="corpus", concurrency_limit=1, show_progress_on=[c.build_msg])

    def on_load(language, request: gr.Request = None):
        return refresh(page, page.sessions.remember(request, language))

    demo.load(None, None, [c.browser_lang], js="() => navigator.language || ''", api_visibility="private") \
        .then(on_load, [c.browser_lang], c.listing, api_visibility="private")
