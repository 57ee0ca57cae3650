"""Present stage, the question page's parts that are not Gradio wiring (qa/ui.py wires them):
citations in the reader's language, the documents table as HTML that reflows on a phone,
the region choices of an index, CSV / Markdown export of the results, the rebuild's stage
progress, and the link to a passage's original file."""

from __future__ import annotations

import csv
import html
import io
import os
import re
import tempfile
import time
import unicodedata
import urllib.parse
import uuid
from pathlib import Path

from . import metadata
from .i18n import text

esc = html.escape


def pages_of(p) -> str:
    if getattr(p, "page_start", None) is None:
        return ""
    return str(p.page_start) if p.page_start == p.page_end else f"{p.page_start}–{p.page_end}"


def bulletin_name(p) -> str:
    """The bulletin's name when it tells more than the article title and the file name."""
    d = getattr(p, "doc_title", "") or ""
    return "" if d in ("", p.source, p.title) else d


def cite(p, lang: str = "zh") -> str:
    """A ready citation: article, bulletin, region, date, then file and lines (and PDF pages).
    甘肃酒泉：多措并举… 《湖北多措并举…》 甘肃省酒泉市 (003_….txt，第121–136行)"""
    pages = pages_of(p)
    doc = bulletin_name(p)
    if lang == "zh":
        where = f"{p.source}，" + (f"第{pages}页，" if pages else "") + f"第{p.start_line}–{p.end_line}行"
        parts = [p.title or "", f"《{doc}》" if doc else "", p.region or "", p.date or ""]
        return "，".join(x for x in parts if x) + f"（{where}）"
    where = f"{p.source}, " + (f"p. {pages}, " if pages else "") + f"lines {p.start_line}–{p.end_line}"
    parts = [p.title or "", f"in “{doc}”" if doc else "", p.region or "", p.date or ""]
    return ", ".join(x for x in parts if x) + f" ({where})"


ORIGINAL_ROUTE = "original"  # the page's route for the corpus files: original/<file name in the corpus>


def original_url(source: str, page: int | None = None) -> str:
    """The link to a corpus file, relative to the page (``original/003_….txt``; the file's name in
    the corpus, never a server path); a PDF opens at its page (``#page=3``)."""
    url = f"{ORIGINAL_ROUTE}/" + urllib.parse.quote(source)
    return url + (f"#page={int(page)}" if page else "")


_TEXT_SUFFIXES = {".txt", ".md", ".html", ".htm"}
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


# --------------------------------------------------------------------------- documents


def document_info(passages) -> dict[str, dict]:
    """{file: {"doc_title", "regions": [...], "articles": [{"title", "region", "date", "start_line",
    "end_line"}]}} from the index's passages (dicts), each article's lines spanning its passages."""
    out: dict[str, dict] = {}
    for p in passages:
        d = out.setdefault(p["source"], {"doc_title": p.get("doc_title") or "", "articles": {}, "regions": []})
        a = d["articles"].get(p.get("article", 0))
        if a is None:
            a = d["articles"][p.get("article", 0)] = {
                "title": p.get("title") or "", "region": p.get("region") or "", "date": p.get("date") or "",
                "start_line": p["start_line"], "end_line": p["end_line"]}
            for r in (p.get("region") or "").split("、"):
                if r and r not in d["regions"]:
                    d["regions"].append(r)
        a["start_line"], a["end_line"] = min(a["start_line"], p["start_line"]), max(a["end_line"], p["end_line"])
    for d in out.values():
        d["articles"] = [d["articles"][k] for k in sorted(d["articles"])]
    return out


def _folded(s: str) -> str:
    return unicodedata.normalize("NFKC", s or "").casefold()


def search_text(row: dict, info: dict) -> str:
    """What the documents' search box matches: file name, bulletin name, regions, article titles."""
    parts = [row.get("file", ""), row.get("title", ""), info.get("doc_title", ""), " ".join(info.get("regions", []))]
    parts += [f'{a["title"]} {a["region"]}' for a in info.get("articles", [])]
    return _folded(" ".join(parts))


def filter_documents(rows: list[dict], info: dict[str, dict], query: str) -> list[dict]:
    """The rows whose file name, bulletin name, region or article titles contain every word of
    ``query`` (NFKC, case-folded; an empty query keeps them all): the page's search box does the
    same in the browser (``FILTER_SCRIPT``)."""
    words = _folded(query).split()
    return [r for r in rows if all(w in search_text(r, info.get(r["file"], {})) for w in words)]


def articles_html(arts: list[dict], lang: str) -> str:
    """One bulletin's articles: title, region, date and line range each (as text)."""
    lis = []
    for n, a in enumerate(arts, 1):
        about = [x for x in (a["region"], a["date"], text("lines", lang, a=a["start_line"], b=a["end_line"])) if x]
        lis.append(f'<li data-search="{esc(_folded(a["title"] + " " + a["region"]))}">'
                   f'<span class="qa-art-title">{esc(a["title"] or text("untitled", lang))}</span> '
                   f'<span class="qa-doc-region">{" · ".join(esc(x) for x in about)}</span></li>')
    return f'<ol class="qa-art-list">{"".join(lis)}</ol>'


_STATES = {"indexed": "st_indexed", "not indexed yet: rebuild": "st_new", "changed: rebuild": "st_changed",
           "deleted: rebuild to remove": "st_deleted"}


def documents_html(rows: list[dict], info: dict[str, dict], lang: str, human) -> str:
    """The documents table: file names and titles as text (escaped, never Markdown), each
    bulletin's articles (title, region, date, lines) opening under its name; each row carries
    what the search box matches; on a phone every row becomes a block (CSS)."""
    if not rows:
        return f'<div class="qa-docs-empty">{esc(text("no_docs", lang))}</div>'
    heads = ["th_file", "th_title", "th_regions", "th_passages", "th_size", "th_added", "th_state"]
    th = "".join(f'<th class="qa-{h[3:]}">{esc(text(h, lang))}</th>' for h in heads)
    body = []
    for r in rows:
        i = info.get(r["file"], {})
        arts = i.get("articles", [])
        title = f'<div class="qa-doc-title">{esc(i.get("doc_title") or r.get("title") or "")}</div>'
        if arts:
            title += (f'<details class="qa-doc-articles"><summary>{esc(text("articles_n", lang, n=len(arts)))}'
                      f'</summary>{articles_html(arts, lang)}</details>')
        state = text(_STATES[r["state"]], lang) if r["state"] in _STATES else r["state"]
        cells = [("file", f'<span class="qa-filename">{esc(r["file"])}</span>'), ("title", title),
                 ("regions", esc("、".join(i.get("regions", [])))), ("passages", str(int(r.get("passages") or 0))),
                 ("size", esc(human(r["size"]))), ("added", esc(r.get("added") or "")),
                 ("state", f'<span class="qa-state qa-state-{_STATES.get(r["state"], "x")}">{esc(state)}</span>')]
        tds = "".join(f'<td class="qa-{k}" data-label="{esc(text("th_" + k, lang))}">{v}</td>' for k, v in cells)
        body.append(f'<tr class="qa-doc-row" data-search="{esc(search_text(r, i))}">{tds}</tr>')
    none = (f'<tr class="qa-docs-nomatch" style="display: none"><td colspan="{len(heads)}">'
            f'{esc(text("no_match", lang))}</td></tr>')
    return f'<table class="qa-docs"><thead><tr>{th}</tr></thead><tbody>{"".join(body)}{none}</tbody></table>'


def region_choices(passages) -> list[tuple[str, str]]:
    """(label, adcode) of every place the indexed articles (the index's passages) are about, with
    the provinces and prefectures holding them: 甘肃省, 甘肃省 · 酒泉市 ..."""
    table = metadata._by_code()
    codes: set[str] = set()
    for p in passages:
        for c in p.get("region_codes") or []:
            codes.add(c)
            codes.add(c[:2] + "0000")
            if c[4:] != "00":
                codes.add(c[:4] + "00")
    out = []
    for c in sorted(codes):
        place = table.get(c)
        if place is None:
            continue
        label = metadata.full_name(place)
        for up in (c[:2] + "0000", c[:4] + "00"):
            u = table.get(up)
            if u is not None and u.level < place.level:
                label = label.replace(u.name, u.name + " · ", 1)
        out.append((label, c))
    return out


# --------------------------------------------------------------------------- export


def export_files(query: str, passages, lang: str, folder: Path | None = None) -> tuple[str, str]:
    """(CSV path, Markdown path) of the results: question, rank, citation, passage, answer sentence
    (and the bulletin, region, date, issuer, file, lines and score)."""
    if folder is None:  # one folder per process; exports older than an hour are removed
        folder = Path(tempfile.gettempdir()) / f"bulletin-qa-export-{os.getpid()}"
        _prune(folder, 3600)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    head = text("csv_head", lang)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(head)
    for p in passages:
        w.writerow([query, p.rank, cite(p, lang), p.text, p.answer, bulletin_name(p), p.region, p.date, p.issuer,
                    p.source, f"{p.start_line}-{p.end_line}", f"{p.score:.4f}"])
    csv_path = folder / f"bulletin-qa-{stamp}.csv"
    csv_path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")  # BOM: Excel opens it as UTF-8
    md = [f"# {text('md_title', lang)} {_md(query)}", ""]
    for p in passages:
        md += [f"{p.rank}. **{_md(cite(p, lang))}**", ""]
        if p.answer:
            md += [f"   > {_md(p.answer)}", ""]
        md += ["   " + _md(p.text).replace("\n", "\n   "), ""]
    md_path = folder / f"bulletin-qa-{stamp}.md"
    md_path.write_text("\n".join(md), encoding="utf-8")
    return str(csv_path), str(md_path)


def _prune(folder: Path, seconds: float) -> None:
    now = time.time()
    for f in folder.glob("bulletin-qa-*"):
        try:
            if now - f.stat().st_mtime > seconds:
                f.unlink()
        except OSError:
            pass


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def _md(s: str) -> str:
    """Text for Markdown, its special characters escaped (a file name stays a file name)."""
    return _MD_SPECIAL.sub(r"\\\1", s or "")


# --------------------------------------------------------------------------- rebuild progress


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
