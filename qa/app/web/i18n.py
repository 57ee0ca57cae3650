"""Present stage: the page's words in Chinese (first) and English.

Two halves:

* ``ui_translations()`` - the static labels, buttons and headings, keyed for Gradio's own
  ``gr.I18n`` (the browser's language picks them; Gradio falls back to English for a
  language it has no table for).
* ``text()`` / ``say()`` - what the server writes into the page after an event (answers,
  cards, messages, the library's errors and verdict reasons), in the language of the request
  (``lang_of``: the browser's first Accept-Language tag, the same preference Gradio's
  frontend reads; no header, as from ``gradio_client``, gives English, so the API is unchanged).

The library's messages and the verdict's reasons are :class:`qa.messages.Msg` values: ``say()``
formats their Chinese template with their arguments; nothing here parses English.  The CLI stays
English.
"""

from __future__ import annotations

from qa.messages import in_lang

ZH_LOCALES = ("zh-CN", "zh")  # tables given to gr.I18n for Chinese browsers


class Sessions:
    """The language each session's page reported on load (navigator.language), kept by the page
    (qa.app.web.layout.Page) for its sessions: the most recent ``MAX`` sessions."""

    MAX = 10000

    def __init__(self):
        self._langs: dict[str, str] = {}  # session -> "zh" or "en"

    def remember(self, request, language: str | None) -> str:
        """Note the language the page's browser reported on load (the one Gradio's frontend chose its
        labels by) for the session of ``request``; returns "zh" or "en"."""
        lang = "zh" if (language or "").strip().lower().startswith("zh") else "en"
        if not language:
            return self.lang_of(request)
        key = getattr(request, "session_hash", None)
        if key:
            if len(self._langs) >= self.MAX:
                self._langs.pop(next(iter(self._langs)), None)
            self._langs[key] = lang
        return lang

    def lang_of(self, request) -> str:
        """"zh" when the page's browser prefers Chinese (as it reported on load, else its first
        Accept-Language tag), else "en"; no request (a direct call, gradio_client) gives "en"."""
        key = getattr(request, "session_hash", None) if request is not None else None
        if key and key in self._langs:
            return self._langs[key]
        return lang_of(request)


def lang_of(request) -> str:
    """"zh" when the first Accept-Language tag of ``request`` is Chinese, else "en" (no request: a
    direct call, gradio_client, gives "en"); a page asks its :class:`Sessions` first."""
    try:
        header = request.headers.get("accept-language", "") if request is not None else ""
    except Exception:  # noqa: BLE001 - no request (a direct call): English
        header = ""
    first = (header or "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"


def ui_translations(suffixes: str, max_size: str) -> dict[str, dict[str, str]]:
    """{locale: {key: text}} for ``gr.I18n``.  Over 60 lines because it is two tables of words side by
    side (one entry a label), not logic: split, a label's two languages would be further apart."""
    en = {
        "title": "Bulletin QA",
        "subtitle": "Ask in Chinese or English: every answer is a sentence quoted from the bulletins, with its "
                    "source (bulletin, article, region, date, file and lines).",
        "tab_ask": "Ask",
        "tab_docs": "Documents",
        "question": "Question",
        "question_ph": "e.g. 甘肃酒泉 certified-worker goal",
        "ask": "Ask",
        "examples": "Examples (click one to ask it)",
        "k": "Passages shown (top-k)",
        "mode": "Retrieval",
        "mode_hybrid": "hybrid",
        "mode_dense": "meaning (dense)",
        "mode_lexical": "words (lexical)",
        "sources": "Only these documents (empty = all)",
        "regions": "Region (empty = all)",
        "since": "Dated from",
        "until": "Dated until",
        "date_ph": "e.g. 2024 or 2024-03",
        "filters": "Filters",
        "strictness": "Strictness of \u201cnot answered\u201d",
        "strictness_info": "Lenient: fewer answerable questions refused, more off-topic ones answered; "
                           "strict: no off-topic one answered, more answerable ones refused.",
        "strict_lenient": "lenient",
        "strict_normal": "normal",
        "strict_strict": "strict",
        "export_csv": "Export CSV",
        "export_md": "Export Markdown",
        "docs": "Bulletins",
        "doc_search": "Search the bulletins (file name, title, region, article)",
        "doc_search_ph": "e.g. 酒泉, 湖北 or 003_",
        "upload": f"Upload bulletins ({suffixes}; at most {max_size} each)",
        "add": "Add to corpus",
        "to_delete": "Bulletin to delete",
        "delete": "Delete…",
        "confirm_delete": "Yes, delete it",
        "cancel": "Cancel",
        "scratch": "From scratch (re-read every file; vectors already computed are reused)",
        "rebuild": "Rebuild index",
        "message": "Message",
    }
    zh = {
        "title": "社会工作简报问答",
        "subtitle": "可用中文或英文提问：每个回答都是简报原文中的一句话，并注明出处（简报、文章、地区、日期、文件与行号）。",
        "tab_ask": "提问",
        "tab_docs": "文档",
        "question": "问题",
        "question_ph": "例如：甘肃酒泉 持证社工目标",
        "ask": "提问",
        "examples": "示例（点击即提问）",
        "k": "显示段落数（top-k）",
        "mode": "检索方式",
        "mode_hybrid": "混合",
        "mode_dense": "语义（稠密）",
        "mode_lexical": "词语（词法）",
        "sources": "只在这些文档中检索（空 = 全部）",
        "regions": "地区（空 = 全部）",
        "since": "日期自",
        "until": "日期至",
        "date_ph": "如 2024 或 2024-03",
        "filters": "筛选",
        "strictness": "“无答案”判断的严格程度",
        "strictness_info": "宽松：少拒答可回答的问题，但会回答更多无关问题；严格：不回答无关问题，但会拒答更多可回答的问题。",
        "strict_lenient": "宽松",
        "strict_normal": "标准",
        "strict_strict": "严格",
        "export_csv": "导出 CSV",
        "export_md": "导出 Markdown",
        "docs": "简报",
        "doc_search": "搜索简报（文件名、标题、地区、文章）",
        "doc_search_ph": "例如：酒泉、湖北 或 003_",
        "upload": f"上传简报（{suffixes}；每个文件不超过 {max_size}）",
        "add": "加入语料库",
        "to_delete": "要删除的简报",
        "delete": "删除…",
        "confirm_delete": "确认删除",
        "cancel": "取消",
        "scratch": "从头重建（重新读取所有文件；已计算的向量会复用）",
        "rebuild": "重建索引",
        "message": "消息",
    }
    return {"en": en, **{loc: zh for loc in ZH_LOCALES}}


# --------------------------------------------------------------------------- server-written text

TEXT = {
    "question_is": ("Question", "问题"),
    "no_passage": ("<b>No passage found.</b> The bulletins (or the documents, regions and dates you picked) "
                   "contain nothing to show.",
                   "<b>没有找到段落。</b>简报（或所选的文档、地区、日期范围）中没有可显示的内容。"),
    "not_answered": ("<b>The bulletins do not seem to answer this question:</b> {reason}. The nearest passages "
                     "are shown below, but they are not an answer.",
                     "<b>简报似乎没有回答这个问题：</b>{reason}。下面列出最接近的段落，但它们不是答案。"),
    "nearest_note": ("Nearest passages (not an answer):", "最接近的段落（不是答案）："),
    "nearest_badge": ("nearest, not an answer", "最接近，不是答案"),
    "untitled": ("(untitled)", "（无标题）"),
    "show_full": ("Show in full article ({source}, lines {a}–{b})", "在全文中查看（{source}，第{a}–{b}行）"),
    "lines": ("lines {a}–{b}", "第{a}–{b}行"),
    "page": ("p. {p}", "第{p}页"),
    "score": ("score {s}", "得分 {s}"),
    "similarity": ("similarity {s}", "相似度 {s}"),
    "bulletin": ("Bulletin", "简报"),
    "region": ("Region", "地区"),
    "date": ("Date", "日期"),
    "issuer": ("Issued by", "发布机构"),
    "file": ("File", "文件"),
    "copy": ("Copy citation", "复制引用"),
    "copied": ("Copied", "已复制"),
    "open_original": ("Open the original file", "打开原文件"),
    "open_page": ("Open the original at p. {p}", "打开原文件第{p}页"),
    "score_note": ("How to read a card: the score is 1.00 when every retrieval list that ran ranked the passage "
                   "first (in dense or lexical mode, its one list), and falls with rank; it compares the passages "
                   "of this question only and is not a probability. In each card the marked sentence is the passage's sentence closest to the question: only the answer above, from card [1], is given as the answer; a lower card's marked sentence may not answer. "
                   "Where it comes from: the bulletin, the article, its region and date, the file and its lines; "
                   "the original file opens from the card.",
                   "如何阅读卡片：得分 1.00 表示参与检索的每个列表都把该段落排在第一（稠密或词法模式只有一个列表），"
                   "排名越靠后得分越低；它只在本问题的结果之间比较，不是概率。每张卡片中高亮的是该段落里与问题最接近的句子：只有上方来自卡片 [1] 的回答被当作答案，下面卡片的高亮句不一定回答了问题。"
                   "出处：简报、文章、地区和日期、文件及行号；可从卡片打开原文件。"),
    "score_tip": ("1.00 = first in every retrieval list that ran; relative, not a probability",
                  "1.00 = 每个检索列表都排第一；相对值，不是概率"),
    "ranks": ("ranks", "各列表名次"),
    "missing_index": ("<b>No index has been built yet.</b> Open the <b>Documents</b> tab and press <b>Rebuild "
                      "index</b>, or run <code>bulletin-qa index</code> (<code>make index</code>) in a terminal. "
                      "Index folder: <code>{index}</code>",
                      "<b>尚未建立索引。</b>请打开<b>文档</b>标签页并点击<b>重建索引</b>，或在终端运行 "
                      "<code>bulletin-qa index</code>（<code>make index</code>）。索引文件夹：<code>{index}</code>"),
    "damaged": ("<b>The index cannot be read.</b> {e}", "<b>无法读取索引。</b>{e}"),
    "confirm_delete": ("Delete {name} from the corpus? Its passages leave the answers at the next rebuild.",
                       "确定从语料库删除 {name} 吗？下次重建索引后，它的段落将不再出现在回答中。"),
    "pick_first": ("Pick a bulletin to delete first.", "请先选择要删除的简报。"),
    "choose_files": ("Choose one or more files first.", "请先选择一个或多个文件。"),
    "th_file": ("File", "文件"), "th_title": ("Bulletin and articles", "简报与文章"),
    "th_regions": ("Regions", "地区"), "th_passages": ("Passages", "段落"), "th_size": ("Size", "大小"),
    "th_added": ("Added", "添加时间"), "th_state": ("State", "状态"),
    "articles_n": ("{n} articles", "{n} 篇文章"),
    "st_indexed": ("indexed", "已索引"), "st_new": ("not indexed yet: rebuild", "尚未索引：请重建"),
    "st_changed": ("changed: rebuild", "已修改：请重建"), "st_deleted": ("deleted: rebuild to remove", "已删除：重建后移除"),
    "no_docs": ("No bulletins yet: upload some below.", "还没有简报：请在下方上传。"),
    "no_match": ("No bulletin matches the search.", "没有符合搜索条件的简报。"),
    "starting": ("starting", "开始"),
    "stage_read": ("reading files {d}/{t}", "读取文件 {d}/{t}"),
    "stage_embed": ("embedding passages {d}/{t}", "向量化段落 {d}/{t}"),
    "stage_embed_sentences": ("embedding sentences {d}/{t}", "向量化句子 {d}/{t}"),
    "stage_lexical": ("building the word index", "建立词语索引"),
    "stage_write": ("writing the index", "写入索引"),
    "stage_load": ("loading the model", "加载模型"),
    "csv_head": (["question", "rank", "citation", "passage", "answer sentence", "verdict", "bulletin", "region",
                  "date", "issuer", "file", "lines", "score"],
                 ["问题", "名次", "引用", "段落", "回答句", "结论", "简报", "地区", "日期", "发布机构", "文件", "行号", "得分"]),
    "md_title": ("Results for", "检索结果："),
    "md_verdict": ("Verdict", "结论"),
    # the model's answer (--llm-url): what the page says around it
    "the_model": ("the model", "模型"),
    "failed_check": ("failed the check: ", "未通过核对："),
    "model_wrote": ("The model wrote: ", "模型写的是："),
    "model_writing": ("{model} is writing; each sentence appears once it has been checked against the passages.",
                      "{model} 正在撰写；每句话核对过段落后才会显示。"),
    "model_wrote_it": ("Written by {model} from the passages below. Every number, percentage, year and place name "
                       "was checked against the passage it cites; struck-through sentences failed the check.",
                       "由 {model} 根据下面的段落撰写。每个数字、百分比、年份和地名都已与所引段落核对；"
                       "带删除线的句子未通过核对。"),
    "model_not_used": ("Not written by {model}: the answering sentence of the best passage is shown.",
                       "不是由 {model} 撰写：显示的是最佳段落中回答问题的句子。"),
    # the strictness of the no-answer verdict
    "strictness_note": ("strictness: {s}", "严格程度：{s}"),
    # a refusal under a filter, and the date filter's undated articles (issue 31)
    "filtered_by": ("Searched only in: {filters}.", "只在以下范围内检索：{filters}。"),
    "filter_docs": ("documents {v}", "文档 {v}"),
    "filter_regions": ("region {v}", "地区 {v}"),
    "filter_dates": ("dated {v}", "日期 {v}"),
    "filter_caused": ("Without these filters the bulletins do answer it: the filter caused this.",
                      "不加这些筛选时，简报能回答这个问题：是筛选条件导致了没有答案。"),
    "filter_not_cause": ("Without these filters the bulletins do not answer it either.",
                         "即使不加这些筛选，简报也没有回答这个问题。"),
    "unfilter": ("Search without the filters", "不加筛选再搜索"),
    "undated": ("{n} of {m} articles carry no date; the date filter left them out.",
                "{m} 篇文章中有 {n} 篇没有日期，日期筛选已把它们排除在外。"),
    "all_dated": ("Every article ({m}) carries a date.", "全部 {m} 篇文章都有日期。"),
    # a card folded on a phone
    "show_more": ("Show the whole passage", "展开全文"),
    "show_less": ("Show less", "收起"),
    # the original file (qa/app/web/originals.py): its line viewer and what it says when it cannot show it
    "viewer_cited": ("the cited passage: {where}, marked", "所引段落：{where}（已标出）"),
    "viewer_raw": ("the file as it is", "原始文件"),
    "original_deleted": ("{name} has been deleted from the corpus. The index still cites it until the next "
                         "rebuild (Documents tab, Rebuild index).",
                         "{name} 已从语料库中删除。在下次重建索引（文档标签页，“重建索引”）之前，索引仍会引用它。"),
    "original_unknown": ("{name} is not a file of the corpus.", "{name} 不是语料库中的文件。"),
    "original_unreadable": ("{name} could not be read just now (it was being changed); try again.",
                            "暂时无法读取 {name}（文件正在被修改），请稍后再试。"),
}


def text(key: str, lang: str = "en", **kw):
    en, zh = TEXT[key]
    s = zh if lang == "zh" else en
    return s.format(**kw) if kw and isinstance(s, str) else s


def say(message, lang: str = "en") -> str:
    """A message of the library or the page in ``lang``: a :class:`qa.messages.Msg` by its own
    template (never by parsing its English); a list, one item a line; a tuple, its items side by
    side ("⚠ ", a Msg); anything else (a library's own error text, a file name) as it is."""
    if isinstance(message, list):
        return "\n".join(say(m, lang) for m in message)
    if isinstance(message, tuple):
        return "".join(say(m, lang) for m in message)
    return in_lang(message, lang)
