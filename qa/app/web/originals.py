"""The page's route to the corpus files: ``original/<file name in the corpus>``, checked
against the corpus as it is, behind the page's login; the link a card gives to its passage."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from qa.ingest.corpus import Corpus


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


def serve_originals(demo, corpus: Corpus) -> None:
    """``GET original/<file>``: a file of the corpus by its name there (what the cards link to; no
    server path reaches the page), checked against the corpus as it is now (``Corpus.files``:
    no folder, no symlink out), behind the page's login (the dependencies of Gradio's own file
    route).  A PDF inline (its viewer opens #page=N), text as plain text, Word as a download."""
    from fastapi import HTTPException
    from fastapi.responses import Response

    app = demo.server_app
    guard = next((d for r in app.routes for d in getattr(r, "dependencies", None) or []
                  if getattr(d.dependency, "__name__", "") == "login_check"), None)  # as on Gradio's /config
    if guard is None:  # fail closed: never serve the corpus past a login that cannot be checked
        raise RuntimeError("Gradio's login check was not found: the original files cannot be served safely")

    def original(name: str):
        root = corpus.folder.resolve()
        path = (root / name).resolve()
        if name not in corpus.files() or root not in path.parents:
            raise HTTPException(404, "not a file of the corpus")
        data = path.read_bytes()
        media, disposition = original_media(name, data)
        quoted = urllib.parse.quote(Path(name).name)
        return Response(data, media_type=media, headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quoted}",
            "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "no-store"})

    app.add_api_route(f"/{ORIGINAL_ROUTE}/{{name:path}}", original, methods=["GET"], dependencies=[guard],
                      include_in_schema=False)
