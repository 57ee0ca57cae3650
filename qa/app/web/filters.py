"""What the page says about the filters of a search (issue 31): a refusal under a filter says that
the filter was on, whether the bulletins answer without it, and offers to search without it; a
date filter says how many articles carry no date (a date filter leaves them out)."""

from __future__ import annotations

from qa.app.web.i18n import text
from qa.app.web.live import live_passages
from qa.app.web.render import esc
from qa.index.base import IndexDamaged


def region_label(code: str) -> str:
    """甘肃省 for 620000; a name given instead of a code is shown as it is."""
    from qa.ingest import metadata

    place = metadata._by_code().get(code)
    return metadata.full_name(place) if place is not None else code


def describe(sources, regions, since, until, lang: str) -> str:
    """The active filters in words: 地区 甘肃省；日期 2024–…"""
    parts = []
    if sources:
        parts.append(text("filter_docs", lang, v="、".join(sources)))
    if regions:
        parts.append(text("filter_regions", lang, v="、".join(region_label(r) for r in regions)))
    if since or until:
        parts.append(text("filter_dates", lang, v=f"{since or '…'}–{until or '…'}"))
    return ("；" if lang == "zh" else "; ").join(parts)


def undated_count(index, sources=None) -> tuple[int, int]:
    """(articles without a date, articles) of the live index (of ``sources`` only when given)."""
    dates: dict[tuple, str] = {}
    for p in live_passages(index):
        if sources and p["source"] not in sources:
            continue
        key = (p["source"], p.get("article", 0))
        dates[key] = dates.get(key) or p.get("date") or ""
    return sum(1 for d in dates.values() if not d), len(dates)


def filter_note(search, result: dict, index, sources, regions, since, until, lang: str) -> str:
    """HTML under the answer: for a date filter, the undated articles it left out; for a refusal
    (or nothing found) under any filter, that the filter was on, whether the bulletins answer
    without it (``search()``: the same question unfiltered, a ``run_search`` result), and a button
    that searches without it (page.js presses the page's hidden ``#qa-unfilter-btn``)."""
    if not (sources or regions or since or until):
        return ""
    out = []
    if since or until:
        n, m = undated_count(index, sources)
        out.append(f'<p class="qa-undated">{esc(text("undated" if n else "all_dated", lang, n=n, m=m))}</p>')
    if result["answered"] is False or not result["passages"]:
        try:
            without = search()
            caused = bool(without["passages"]) and without["answered"] is not False
        except (ValueError, TypeError, IndexDamaged):
            caused = None
        said = [text("filtered_by", lang, filters=describe(sources, regions, since, until, lang))]
        if caused is not None:
            said.append(text("filter_caused" if caused else "filter_not_cause", lang))
        out.append(f'<p class="qa-filtered">{esc(" ".join(said))} <button type="button" class="qa-unfilter">'
                   f'{esc(text("unfilter", lang))}</button></p>')
    return f'<div class="qa-filter-note">{"".join(out)}</div>'
