"""The page's route to the corpus files: ``original/<file name in the corpus>``, checked
against the corpus as it is, behind the page's login; the link a card gives to its passage."""

from __future__ import annotations

import html
import urllib.parse
from pathlib import Path

from qa.app.web.i18n import lang_of, text
from qa.ingest.corpus import Corpus

esc = html.escape


ORIGINAL_ROUTE = "original"  # the page's route for the corpus files: original/<file name in the corpus>


def original_url(source: str, page: int | None = None, lines: tuple[int, int] | None = None) -> str:
    """The link to a corpus file, relative to the page (``original/003_….txt``; the file's name in
    the corpus, never a server path); a PDF opens at its page (``#page=3``); a text file with
    ``lines`` opens in the line viewer, scrolled to them (``?lines=121-136#L119``)."""
    url = f"{ORIGINAL_ROUTE}/" + urllib.parse.quote(source)
    if lines and not page and Path(source).suffix.lower() in _TEXT_SUFFIXES:
        a, b = int(lines[0]), int(lines[1])
        return url + f"?lines={a}-{b}#L{max(1, a - CONTEXT_ABOVE)}"
    return url + (f"#page={int(page)}" if page else "")


CONTEXT_ABOVE = 2  # lines shown above the cited ones when the viewer opens


_TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}


_MEDIA = {".pdf": "application/pdf",
          ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def original_media(name: str, head: bytes) -> tuple[str, str]:
    """(media type, "inline" | "attachment") of a corpus file served to the browser: a PDF inline
    (its viewer honours #page=N); text, Markdown and HTML inline as plain text in the charset its
    bytes decode in (an uploaded HTML bulletin is never run as a page of this site); Word as a
    download."""
    suffix = Path(name).suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        for bom, charset in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
            if head.startswith(bom):
                return f"text/plain; charset={charset}", "inline"
        for charset in ("utf-8", "gb18030"):
            try:
                head.decode(charset)
                return f"text/plain; charset={charset}", "inline"
            except UnicodeDecodeError:
                continue
        return "text/plain", "inline"
    if suffix == ".pdf":
        return _MEDIA[".pdf"], "inline"
    return _MEDIA.get(suffix, "application/octet-stream"), "attachment"


def decode(data: bytes, media: str) -> str:
    """A text file's characters, in the charset :func:`original_media` found."""
    charset = media.partition("charset=")[2] or "utf-8"
    return data.decode(charset, errors="replace").lstrip("\ufeff")


_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"  # no script, no request, ever


def _page(title: str, body: str, lang: str) -> str:
    return (f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)}</title>'
            f'<style>{VIEWER_CSS}</style></head><body>{body}</body></html>')


VIEWER_CSS = """body {font-family: system-ui, "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif; margin: 0;
 color: #111827; background: #fff}
header {position: sticky; top: 0; background: #f0fdfa; border-bottom: 1px solid #99f6e4; padding: 8px 14px;
 font-size: .95em}
header a {color: #0f766e; margin-left: 10px}
table {border-collapse: collapse; width: 100%; font-size: .95em; line-height: 1.6}
td.n {color: #9ca3af; text-align: right; padding: 0 10px 0 8px; user-select: none; vertical-align: top;
 white-space: nowrap; font-family: ui-monospace, monospace; font-size: .85em; width: 1%}
td.t {white-space: pre-wrap; word-break: break-word; padding: 0 10px}
tr {scroll-margin-top: 48px}
tr.cited td {background: #fef3c7}
tr.cited td.n {color: #92400e; font-weight: 600; border-left: 4px solid #f59e0b}
.msg {max-width: 40em; margin: 3em auto; padding: 16px 20px; border-left: 5px solid #b45309;
 background: #fffbeb; line-height: 1.7}"""


def viewer_html(name: str, text_: str, a: int, b: int, lang: str) -> str:
    """A text file with its line numbers, lines ``a``–``b`` (the cited passage) marked; each line's
    row is ``#L<n>``, so the link's fragment scrolls to the passage without any script."""
    rows = []
    for n, line in enumerate(text_.splitlines() or [""], 1):
        cited = ' class="cited"' if a <= n <= b else ""
        rows.append(f'<tr id="L{n}"{cited}><td class="n">{n}</td><td class="t">{esc(line)}</td></tr>')
    where = text("lines", lang, a=a, b=b)
    raw = urllib.parse.quote(Path(name).name)
    head = (f'<header><b>{esc(name)}</b> · {esc(text("viewer_cited", lang, where=where))}'
            f'<a href="{esc(raw)}">{esc(text("viewer_raw", lang))}</a></header>')
    return _page(f"{name} · {where}", head + f'<table>{"".join(rows)}</table>', lang)


def message_html(key: str, name: str, lang: str) -> str:
    """A page that says why a file cannot be shown, in the reader's language."""
    return _page(name, f'<div class="msg">{esc(text(key, lang, name=name))}</div>', lang)


def _lines_of(query: str | None) -> tuple[int, int] | None:
    try:
        a, _, b = (query or "").partition("-")
        a, b = int(a), int(b or a)
    except ValueError:
        return None
    return (a, b) if 1 <= a <= b else None


def serve_originals(demo, corpus: Corpus, indexed=lambda: {}) -> None:
    """``GET original/<file>``: a file of the corpus by its name there (what the cards link to; no
    server path reaches the page), checked against the corpus as it is now (``Corpus.files``:
    no folder, no symlink out), behind the page's login (the dependencies of Gradio's own file
    route).  A PDF inline (its viewer opens #page=N), text as plain text, Word as a download;
    ``?lines=a-b`` on a text file: the line viewer (:func:`viewer_html`).  A file that is not
    there (deleted, not yet rebuilt: ``indexed()`` still names it) or cannot be read right now
    gets a page saying so in the reader's language (Accept-Language), never JSON or a traceback."""
    from fastapi import Request
    from fastapi.responses import HTMLResponse, Response

    app = demo.server_app
    guard = next((d for r in app.routes for d in getattr(r, "dependencies", None) or []
                  if getattr(d.dependency, "__name__", "") == "login_check"), None)  # as on Gradio's /config
    if guard is None:  # fail closed: never serve the corpus past a login that cannot be checked
        raise RuntimeError("Gradio's login check was not found: the original files cannot be served safely")
    safe = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}

    def said(key: str, name: str, lang: str, status: int):
        return HTMLResponse(message_html(key, name, lang), status, headers={**safe, "Content-Security-Policy": _PAGE_CSP})

    def original(name: str, request: Request):
        lang = lang_of(request)
        shown = name.replace("\x00", "\ufffd")
        try:
            root = corpus.folder.resolve()
            if "\x00" in name or name not in corpus.files():
                gone = "\x00" not in name and name in indexed()
                return said("original_deleted" if gone else "original_unknown", shown, lang, 404)
            path = (root / name).resolve()
            if root not in path.parents:
                return said("original_unknown", shown, lang, 404)
            data = path.read_bytes()
        except OSError:  # deleted, re-created or moved while it was read
            return said("original_unreadable", shown, lang, 503)
        media, disposition = original_media(name, data)
        lines = _lines_of(request.query_params.get("lines"))
        if lines and media.startswith("text/plain"):
            return HTMLResponse(viewer_html(name, decode(data, media), *lines, lang),
                                headers={**safe, "Content-Security-Policy": _PAGE_CSP})
        quoted = urllib.parse.quote(Path(name).name)
        return Response(data, media_type=media, headers={
            **safe, "Content-Disposition": f"{disposition}; filename*=UTF-8''{quoted}",
            "Content-Security-Policy": "sandbox"})

    original.__annotations__ = {"name": str, "request": Request}  # real classes for FastAPI (future annotations)
    app.add_api_route(f"/{ORIGINAL_ROUTE}/{{name:path}}", original, methods=["GET"], dependencies=[guard],
                      include_in_schema=False)
