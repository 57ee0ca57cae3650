"""The Documents tab's data: each bulletin with its state, name, regions and articles, as
HTML that reflows on a phone and as the ``/documents`` endpoint's rows; the region choices."""

from __future__ import annotations

import unicodedata

from qa.app.api import Index
from qa.app.web.i18n import text
from qa.app.web.live import indexed_files, live_passages
from qa.app.web.render import esc
from qa.ingest import metadata
from qa.ingest.corpus import Corpus, human_size


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
        # the publication (masthead); a file of one article is that article; a page of several
        # without a masthead names none of them as the bulletin
        name = i.get("doc_title") or (r.get("title") or "" if len(arts) <= 1 else "")
        title = f'<div class="qa-doc-title">{esc(name)}</div>'
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


def list_documents(corpus: Corpus, index: Index) -> list[dict]:
    """Every bulletin in the corpus or the index (a qa.Index), with its state."""
    files = indexed_files(index)
    on_disk = corpus.files()
    rows = []
    for name in sorted(set(files) | set(on_disk)):
        info = files.get(name, {})
        path = corpus.folder / name
        if name not in on_disk:
            state = "deleted: rebuild to remove"
        elif not info:
            state = "not indexed yet: rebuild"
        elif path.stat().st_size != info.get("size") or corpus.sha256(name) != info.get("sha256"):
            state = "changed: rebuild"
        else:
            state = "indexed"
        size = path.stat().st_size if name in on_disk else info.get("size", 0)
        rows.append({"file": name, "title": info.get("title", ""), "passages": info.get("passages", 0),
                     "size": size, "added": str(info.get("added", "")).replace("T", " "), "state": state})
    return rows


def documents_view(corpus: Corpus, index: Index, lang: str = "en") -> str:
    """The documents table as HTML (qa.app.web.render.documents_html): each bulletin's name and articles."""
    info = document_info(live_passages(index))
    return documents_html(list_documents(corpus, index), info, lang, human_size)


def documents_api_result(corpus: Corpus, index: Index, query: str = "") -> list[dict]:
    """The ``/documents`` endpoint: every bulletin's row (file, title, passages, size, added, state)
    with its name (doc_title), regions and articles (title, region, date, start_line, end_line);
    ``query`` keeps those whose file name, name, region or article titles contain its words."""
    info = document_info(live_passages(index))
    rows = filter_documents(list_documents(corpus, index), info, query or "")
    empty = {"doc_title": "", "regions": [], "articles": []}
    return [{**r, **{k: v for k, v in info.get(r["file"], empty).items()}} for r in rows]


def source_choices(index: Index) -> list[tuple[str, str]]:
    """(bulletin name · file, file) of the indexed files: a reader knows a bulletin by its name."""
    info = document_info(live_passages(index))
    out = []
    for name in sorted(indexed_files(index)):
        doc = (info.get(name) or {}).get("doc_title") or ""
        out.append((f"{doc} · {name}" if doc and doc != name else name, name))
    return out


def delete_choices(corpus: Corpus, index: Index) -> list[tuple[str, str]]:
    """(bulletin name · file, file) of the corpus's files, for the delete list: a reader knows a
    bulletin by its name (a file not indexed yet has only its file name)."""
    info = document_info(live_passages(index))
    out = []
    for name in corpus.files():
        doc = (info.get(name) or {}).get("doc_title") or ""
        out.append((f"{doc} · {name}" if doc and doc != name else name, name))
    return out
