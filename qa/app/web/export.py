"""The results as CSV (UTF-8 with BOM, opens in Excel) and Markdown, for the page's download buttons."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
import time
from pathlib import Path

MAX_FILES = 40  # the export folder keeps at most this many files (20 question's CSV and Markdown) ...
MAX_AGE = 3600  # ... none older than an hour (Gradio's copies: Blocks(delete_cache=...) in server.py)

from qa.app.web.i18n import say, text
from qa.app.web.render import bulletin_name, cite


def export_files(query: str, passages, lang: str, folder: Path | None = None) -> tuple[str, str]:
    """(CSV path, Markdown path) of the results: question, rank, citation, passage, answer sentence,
    the verdict in every row (``passages``: a qa.Results, whose ``answered`` / ``reason`` say
    whether they answer; an unanswered question's rows say "not answered: <reason>", its
    passages the nearest, not an answer), and the bulletin, region, date, issuer, file, lines
    and score."""
    if folder is None:  # one folder per process
        folder = Path(tempfile.gettempdir()) / f"bulletin-qa-export-{os.getpid()}"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder, MAX_AGE, MAX_FILES - 2)  # room for this pair
    head = text("csv_head", lang)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([cell(h) for h in head])
    verdict = verdict_of(passages, lang)
    for p in passages:
        w.writerow([cell(v) for v in (query, p.rank, cite(p, lang), p.text, p.answer, verdict, bulletin_name(p),
                                      p.region, p.date, p.issuer, p.source, f"{p.start_line}-{p.end_line}",
                                      f"{p.score:.4f}")])
    # named by their content: the same results again (a re-run question, a repeated call) are the
    # same two files, not two more
    stamp = hashlib.sha256(f"{lang}\0{buf.getvalue()}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
    csv_path = folder / f"bulletin-qa-{stamp}.csv"
    csv_path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")  # BOM: Excel opens it as UTF-8
    md = [f"# {text('md_title', lang)} {_md(query)}", "", f"**{text('md_verdict', lang)}:** {_md(verdict)}", ""]
    nearest = "" if getattr(passages, "answered", True) else f" ({_md(text('nearest_badge', lang))})"
    for p in passages:
        md += [f"{p.rank}. **{_md(cite(p, lang))}**{nearest}", ""]
        if p.answer:
            md += [f"   > {_md(p.answer)}", ""]
        md += ["   " + _md(p.text).replace("\n", "\n   "), ""]
    md_path = folder / f"bulletin-qa-{stamp}.md"
    md_path.write_text("\n".join(md), encoding="utf-8")
    return str(csv_path), str(md_path)


# a cell a spreadsheet would read as a formula (=HYPERLINK(...), +cmd, -2+3, @SUM): = + - @, and a tab or
# a carriage return before them (OWASP's CSV injection list); a plain number (-0.5) stays a number
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def cell(value) -> str:
    """A CSV cell no spreadsheet runs: text that opens like a formula gets a leading apostrophe
    (shown as text by Excel, LibreOffice and Google Sheets)."""
    s = "" if value is None else str(value)
    return "'" + s if _FORMULA.match(s) and not _NUMBER.match(s) else s


def verdict_of(passages, lang: str) -> str:
    """The verdict of the results (qa.Results.verdict); "" for a plain list, which carries none."""
    return passages.verdict(lang, say) if hasattr(passages, "verdict") else ""


def _prune(folder: Path, seconds: float, keep: int) -> None:
    """Remove the exports older than ``seconds``, then the oldest beyond ``keep`` files."""
    now, files = time.time(), []
    for f in folder.glob("bulletin-qa-*"):
        try:
            files.append((f.stat().st_mtime, f))
        except OSError:
            pass
    files.sort(reverse=True)
    for n, (mtime, f) in enumerate(files):
        if n >= keep or now - mtime > seconds:
            try:
                f.unlink()
            except OSError:
                pass


# Markdown escapes, only where Markdown would read markup (issue 31: "82\\.9万" showed its backslash
# when pasted into Word or WeChat): inline, the characters that open code, emphasis, links or HTML
# (an underscore only at a word's edge: inside 004_a30c it is no emphasis); at a line's start, what
# would open a heading, quote, list or rule.  A table cell would also escape "|" (there is no table).
_INLINE = re.compile(r"[`*\[\]<]|~~|\\(?=[!-/:-@\[-`{-~])|&(?=#?\w+;)|(?<!\w)_|_(?!\w)")
_LINE_START = re.compile(r"^(#{1,6}(?=\s|$)|>|[-+](?=\s|$)|\d{1,9}(?=[.)](?:\s|$))|=+\s*$|-+\s*$)")


def _md(s: str) -> str:
    """Text for Markdown: figures, names and file names as they are, markup characters escaped
    where Markdown would act on them; each line starts at its text (no indented code)."""
    out = []
    for line in (s or "").split("\n"):
        line = _INLINE.sub(lambda m: "\\" + m.group(0) if m.group(0) != "~~" else "\\~\\~", line.lstrip(" \t"))
        m = _LINE_START.match(line)
        if m:
            head = m.group(0)
            line = (head + "\\" + line[len(head):]) if head[0].isdigit() else "\\" + line
        out.append(line)
    return "\n".join(out)
