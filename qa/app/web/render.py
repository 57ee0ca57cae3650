"""Present stage, the question page's parts that are not Gradio wiring (qa/app/web/ui.py wires them):
citations in the reader's language, the documents table as HTML that reflows on a phone,
the region choices of an index, CSV / Markdown export of the results, the rebuild's stage
progress, and the link to a passage's original file."""

from __future__ import annotations

import html
import re
from pathlib import Path

from qa.app.api import Index
from qa.app.web import i18n as qa_i18n
from qa.app.web.live import article_context
from qa.app.web.originals import original_url
from qa.generate.llm import question_language
from qa.retrieve.results import reference


esc = html.escape


def pages_of(p) -> str:
    if getattr(p, "page_start", None) is None:
        return ""
    return str(p.page_start) if p.page_start == p.page_end else f"{p.page_start}–{p.page_end}"


def bulletin_name(p) -> str:
    """The publication the passage's file is (or is a page of), with its issue and the issue's
    date: 社会工作 2024年第3期 (2024-03-10); "" when the file gives none (never an article's
    headline, never the file name)."""
    parts = [getattr(p, "doc_title", "") or "", getattr(p, "issue", "") or ""]
    when = getattr(p, "issue_date", "") or ""
    name = " ".join(x for x in parts if x)
    return f"{name} ({when})" if name and when else name or when


def cite(p, lang: str = "zh") -> str:
    """A ready citation (qa.retrieve.results.reference): article, issuer, date, publication and
    issue, then file and lines (and PDF pages)."""
    return reference(p, lang)


# --------------------------------------------------------------------------- documents


# --------------------------------------------------------------------------- export


# --------------------------------------------------------------------------- rebuild progress


esc = html.escape


def marked(text: str, span) -> str:
    """``text`` escaped, with ``span`` (a (start, end) pair, or a list of them: every marked
    sentence, the answering one first) in <mark>."""
    spans = sorted(span) if isinstance(span, list) else [span] if span else []
    out, at = [], 0
    for s, e in spans:
        if s < at:
            continue
        out.append(f"{esc(text[at:s])}<mark>{esc(text[s:e])}</mark>")
        at = e
    return "".join(out) + esc(text[at:])


def _spans(span) -> list[tuple[int, int]]:
    return [tuple(x) for x in (span if isinstance(span, list) else [span] if span else [])]


def _marked_part(text: str, spans, a: int, b: int) -> str:
    """``text[a:b]`` marked like :func:`marked`, the marks clipped to it."""
    inside = [(max(s, a) - a, min(e, b) - a) for s, e in spans if s < b and e > a]
    return marked(text[a:b], inside)


AROUND = 90  # characters kept on each side of the answering sentence when a card is folded (phone)
_ENDS = "。！？；!?;\n"


def excerpt(text: str, span, lang: str = "en") -> str:
    """The card's passage: the answering sentence with about :data:`AROUND` characters on each
    side (cut at sentence ends), and the rest in folds that a phone hides until the card's
    "show the whole passage" button opens them (page.css, page.js); a desktop shows everything."""
    spans = _spans(span)
    s, e = spans[0] if spans else (0, 0)
    a = max(0, s - AROUND)
    if a:
        cut = [i + 1 for i in range(a, s) if text[i] in _ENDS]
        a = cut[0] if cut else a
    b = min(len(text), e + AROUND)
    if b < len(text):
        cut = [i for i in range(e + 1, b + 1) if text[i - 1] in _ENDS]
        b = cut[-1] if cut else b
    if a == 0 and b >= len(text):
        return marked(text, span)
    fold = '<span class="qa-fold">{}</span>'
    head = (fold.format(_marked_part(text, spans, 0, a)) + '<span class="qa-ellipsis">…</span>') if a else ""
    tail = ('<span class="qa-ellipsis">…</span>' + fold.format(_marked_part(text, spans, b, len(text)))
            if b < len(text) else "")
    button = (f'<button type="button" class="qa-expand" data-less="{esc(qa_i18n.text("show_less", lang))}">'
              f'{esc(qa_i18n.text("show_more", lang))}</button>')
    return head + _marked_part(text, spans, a, b) + tail + button


ASKED_SHOWN = 200  # characters of the question echoed above the answer (a long one ends in …)


def asked_html(query: str, lang: str = "en") -> str:
    q = " ".join(str(query).split())
    shown = q if len(q) <= ASKED_SHOWN else q[:ASKED_SHOWN] + "…"
    return (f'<div class="qa-asked" title="{esc(q[:2000])}">{esc(qa_i18n.text("question_is", lang))}'
            f'{"：" if lang == "zh" else ": "}'
            f'<q>{esc(shown)}</q></div>')


def copy_button(p, lang: str = "en") -> str:
    """A button that puts the passage's citation on the clipboard (the page's script does it)."""
    return (f'<button type="button" class="qa-copy" data-citation="{esc(cite(p, lang))}" '
            f'data-done="{esc(qa_i18n.text("copied", lang))}">{esc(qa_i18n.text("copy", lang))}</button>')


def render_answer(query: str, result: dict, lang: str = "en") -> str:
    passages = result["passages"]
    asked = asked_html(query, lang)
    if not passages:
        return f'<div class="qa-answer qa-none">{asked}<p>{qa_i18n.text("no_passage", lang)}</p></div>'
    top = passages[0]
    if result["answered"] is False:
        reason = esc(qa_i18n.say(result["reason"], lang))
        return f'<div class="qa-answer qa-none">{asked}<p>{qa_i18n.text("not_answered", lang, reason=reason)}</p></div>'
    listed = [passages[r - 1] for r in result.get("items", ()) if 0 < r <= len(passages)]
    if result.get("listing") and len(listed) >= 2:
        return list_answer_html(asked, listed, lang)
    sentence = top.answer or top.text
    title = cite(top, lang) if lang == "zh" else top.citation
    return (f'<div class="qa-answer">{asked}<p class="qa-sentence">{esc(sentence)} '
            f'<a class="qa-cite" href="#qa-card-1" title="{esc(title)}">[1]</a></p>'
            f'<div class="qa-citation">[1] {esc(cite(top, lang))} {copy_button(top, lang)}</div></div>')


def list_answer_html(asked: str, listed, lang: str) -> str:
    """A list question's answer (qa/retrieve/listing.py): its items one per line, each the marked
    sentence of its passage with its card's marker, its citation and a copy button."""
    items = "".join(
        f'<li class="qa-list-item"><span class="qa-sentence">{esc(p.answer or p.text)}</span> '
        f'<a class="qa-cite" href="#qa-card-{p.rank}" title="{esc(cite(p, lang))}">[{p.rank}]</a>'
        f'<div class="qa-citation">{esc(cite(p, lang))} {copy_button(p, lang)}</div></li>' for p in listed)
    return f'<div class="qa-answer qa-list-answer">{asked}<ol class="qa-list">{items}</ol></div>'


def render_cards(result: dict, index: Index, lang: str = "en", corpus: Path | None = None) -> str:
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
                body = (f'{esc(full[:pos])}<span class="qa-here">{marked(p.text, p.marks or p.highlight)}</span>'
                        f'{esc(full[pos + len(p.text):])}')
            else:
                body = esc(full)
            context = (f'<details class="qa-context"><summary>{esc(t("show_full", lang, source=p.source, a=a, b=b))}'
                       f'</summary><div class="qa-article">'
                       f'<div class="qa-article-title">{esc(title)}</div>{body}</div></details>')
        sim_txt = f' · {esc(t("similarity", lang, s=f"{sim:.3f}"))}' if sim is not None else ""
        badge = f'<span class="qa-badge">{esc(t("nearest_badge", lang))}</span>' if nearest else ""
        about = [(t("bulletin", lang), bulletin_name(p)), (t("region", lang), p.region),
                 (t("date", lang), p.date), (t("issuer", lang), p.issuer)]
        about_html = "".join(f'<span class="qa-about-item"><span class="qa-about-key">{esc(key)}</span> '
                             f'{esc(val)}</span>' for key, val in about if val)
        pages = pages_of(p)
        where = esc(t("lines", lang, a=p.start_line, b=p.end_line))
        if pages:
            where = esc(t("page", lang, p=pages)) + " · " + where
        link = ""
        if corpus is not None:  # the page's own route serves the file by its name in the corpus
            label = t("open_page", lang, p=p.page_start) if p.page_start else t("open_original", lang)
            link = (f'<a class="qa-open" href="{esc(original_url(p.source, p.page_start, (p.start_line, p.end_line)))}" '
                    f'target="_blank" rel="noopener">{esc(label)}</a>')
        out.append(
            f'<div class="qa-card{" qa-card-nearest" if nearest else ""}" id="qa-card-{p.rank}">'
            f'<div class="qa-card-head"><span class="qa-rank">[{p.rank}]</span> '
            f'<span class="qa-title">{esc(p.title or t("untitled", lang))}</span>{badge}</div>'
            f'<div class="qa-about">{about_html}</div>'
            f'<div class="qa-meta"><span class="qa-filename">{esc(p.source)}</span> · {where} · '
            f'<span class="qa-score" title="{esc(score_title(p, lang))}">{esc(t("score", lang, s=f"{p.score:.2f}"))}'
            f'</span>{sim_txt}</div>'
            f'<div class="qa-text">{excerpt(p.text, p.marks or p.highlight, lang)}</div>'
            f'<div class="qa-actions">{copy_button(p, lang)}{link}</div>{context}</div>')
    out.append(f'<div class="qa-meta qa-score-note">{esc(t("score_note", lang))}</div>')
    return "\n".join(out)


def score_title(p, lang: str = "en") -> str:
    """The tooltip of a card's score: what 1.00 means, and the passage's rank in each list."""
    ranks = ", ".join(f"{name} #{r}" for name, r in sorted((p.ranks or {}).items(), key=lambda t: (t[1], t[0])))
    return qa_i18n.text("score_tip", lang) + (f" — {qa_i18n.text('ranks', lang)}: {ranks}" if ranks else "")


def missing_index_html(index: str, lang: str = "en") -> str:
    return f'<div class="qa-answer qa-none">{qa_i18n.text("missing_index", lang, index=esc(str(index)))}</div>'


_MARKER_SHOWN = re.compile(r"\[(\d+)\]")


def linked_markers(escaped: str, passages, lang: str = "en") -> str:
    """[n] in an escaped sentence -> a link to card n (a marker beyond the cards stays text)."""
    def link(m):
        n = int(m.group(1))
        if 1 <= n <= len(passages):
            return (f'<a class="qa-cite" href="#qa-card-{n}" title="{esc(cite(passages[n - 1], lang))}">'
                    f'[{n}]</a>')
        return f'<span class="qa-cite-bad">[{n}]</span>'
    return _MARKER_SHOWN.sub(link, escaped)


def _generated_body(query: str, a, lang: str) -> str:
    """The model's sentences (checked ones as text, failed ones struck through with the reason),
    or, when it gave nothing usable, the extractive answer and what it wrote."""
    t, tr, passages = qa_i18n.text, qa_i18n.say, a.passages
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
        gap = " " if question_language(query) == "en" else ""
        return f'<p class="qa-sentence qa-generated-text">{gap.join(parts)}</p>'
    top = passages[0]
    body = (f'<p class="qa-sentence">{esc(top.answer or top.text)} '
            f'<a class="qa-cite" href="#qa-card-1" title="{esc(cite(top, lang))}">[1]</a></p>')
    struck = [f'<del class="qa-unsupported" title="{esc(tr(c.reason, lang))}">'
              f'{linked_markers(esc(c.sentence), passages, lang)}</del>'
              f'<span class="qa-warn">⚠ {esc(tr(c.reason, lang))}</span>' for c in a.unsupported]
    if struck:
        body += f'<p class="qa-struck">{esc(t("model_wrote", lang))}{" ".join(struck)}</p>'
    return body


def render_generated(query: str, a, result: dict, lang: str = "en") -> str:
    """HTML of a model's answer (``qa.generate.llm.Answer``), partial while ``a.done`` is False, in
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
    refs = "".join(f'<div class="qa-citation">[{n}] {esc(cite(p, lang))} {copy_button(p, lang)}</div>'
                   for n, p in cited)
    note = f'<div class="qa-note">⚠ {esc(qa_i18n.say(a.note, lang))}</div>' if a.note and a.done else ""
    return (f'<div class="qa-answer qa-llm{" qa-llm-writing" if not a.done else ""}">{asked_html(query, lang)}{body}'
            f'<div class="qa-model">{who}</div>{note}{refs}</div>')
