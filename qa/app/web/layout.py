"""The page's layout: its two tabs' components, gathered into a :class:`Page` for the handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from qa.app.api import Index
from qa.app.web.documents import delete_choices, documents_view, region_choices, source_choices
from qa.app.web.i18n import Sessions
from qa.app.web.live import live_passages
from qa.ingest.corpus import Corpus
from qa.ingest.read import SUFFIXES
from qa.retrieve.verdict import STRICTNESS


EXAMPLES = [  # none of them is a question of the development set
    "甘肃酒泉 certified-worker goal",
    "湖北社会工作专业人才总量目标是多少",
    "What did Qiao Heng propose for social work?",
    "宣城 社会工作人才总量 2027年目标",
    "Ningxia: monthly allowance for certified community workers",
    "夹江县 开发了多少个社工岗位",
]


MODES = ["hybrid", "dense", "lexical"]


FONTS = ["system-ui", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]


def static(name: str) -> str:
    """A file of the page's static folder (qa/app/web/static: its CSS and scripts)."""
    return resources.files("qa.app.web").joinpath("static", name).read_text(encoding="utf-8")


def theme():
    return gr.themes.Soft(primary_hue="teal", font=FONTS, font_mono=["ui-monospace", "monospace"])


@dataclass
class Page:
    """What the page's handlers share: its corpus folder, its index (a qa.Index: the store, the
    retriever and the models its searches and rebuilds use), the corpus as uploads and deletes
    change it (``library``), the model (None: the extractive page), the language each session
    reported (``sessions``) and, once laid out, its components by name (``c.question``,
    ``c.table`` ...)."""
    corpus: Path
    index: Index
    library: Corpus
    llm: object = None
    c: SimpleNamespace = field(default_factory=SimpleNamespace)
    sessions: Sessions = field(default_factory=Sessions)

    def lang_of(self, request) -> str:
        """"zh" or "en": the language the session of ``request`` reported (i18n.Sessions)."""
        return self.sessions.lang_of(request)


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
        c.strictness = gr.Radio([(i18n("strict_" + s), s) for s in STRICTNESS], value="normal",
                                label=i18n("strictness"), info=i18n("strictness_info"), scale=2, elem_id="strictness")
    with gr.Row(elem_id="qa-filters"):
        c.sources = gr.Dropdown(choices=source_choices(page.index), multiselect=True, value=[],
                                label=i18n("sources"), scale=3, elem_id="sources")
        c.regions = gr.Dropdown(choices=region_choices(live_passages(page.index)), multiselect=True,
                                value=[], label=i18n("regions"), scale=2, elem_id="regions")
        c.since = gr.Textbox(label=i18n("since"), placeholder=i18n("date_ph"), max_lines=1, scale=1, min_width=140,
                             elem_id="since")
        c.until = gr.Textbox(label=i18n("until"), placeholder=i18n("date_ph"), max_lines=1, scale=1, min_width=140,
                             elem_id="until")
    c.answer = gr.HTML(elem_id="answer")
    # pressed by the "search without the filters" button a refusal under a filter shows (page.js)
    c.unfilter_btn = gr.Button("unfilter", visible="hidden", elem_id="qa-unfilter-btn")
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
    c.table = gr.HTML(documents_view(page.library, page.index), elem_id="documents")
    with gr.Row():
        with gr.Column(scale=3):
            c.files = gr.File(file_count="multiple", file_types=list(SUFFIXES), label=i18n("upload"))
        with gr.Column(scale=2):
            c.add_btn = gr.Button(i18n("add"), variant="primary", elem_id="add")
            c.upload_msg = gr.HTML(elem_id="upload-msg", elem_classes="qa-msg")  # text, never Markdown
    with gr.Row(elem_id="qa-delete-row"):
        c.to_delete = gr.Dropdown(choices=delete_choices(page.library, page.index), label=i18n("to_delete"),
                                  scale=3,
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
