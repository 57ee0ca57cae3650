"""Ingest stage, old Word (.doc, Word 97–2003) and WPS (.wps) files: read by Debian's
``antiword`` (Word 97–2003, WPS files saved in that format), falling back to ``catdoc`` (older
Word versions and what antiword refuses).  Both are small C programs run on a copy of the bytes
in a temporary folder, inside the reading worker, so its memory and time limits hold; neither
needs a model or the network.  Not installed: the file is skipped with a message that says what
to install (``apt-get install antiword catdoc``; .ci/run installs both)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from qa.ingest.errors import IngestError

SUFFIXES = (".doc", ".wps")
SECONDS = 60  # per program; the reading worker's own limit still holds over the whole file


def _run(argv: list[str], path: str) -> str | None:
    """The program's UTF-8 text of ``path``, or None when it fails or prints nothing."""
    try:
        done = subprocess.run(argv + [path], capture_output=True, timeout=SECONDS)  # UTF-8 asked by flag
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.decode("utf-8", errors="replace")
    return text if done.returncode == 0 and text.strip() else None


def read_doc(data: bytes, name: str) -> tuple[str, str, dict]:
    """(text, encoding label, meta) of a .doc / .wps file's bytes."""
    readers = [(p, argv) for p, argv in (("antiword", ["antiword", "-m", "UTF-8.txt", "-w", "0"]),
                                          ("catdoc", ["catdoc", "-d", "utf-8", "-w"])) if shutil.which(p)]
    if not readers:
        raise IngestError(f"{name}: reading old Word files needs antiword or catdoc (apt-get install antiword catdoc)")
    with tempfile.TemporaryDirectory(prefix="bulletin-qa-doc-") as tmp:
        path = os.path.join(tmp, "file" + os.path.splitext(name)[1].lower())
        with open(path, "wb") as f:
            f.write(data)
        for program, argv in readers:
            text = _run(argv, path)
            if text is not None:
                return text.replace("\r\n", "\n").replace("\r", "\n"), f"utf-8 ({program})", {"format": "doc"}
    raise IngestError(f"{name}: cannot read this {os.path.splitext(name)[1].lower()} file "
                      f"({' and '.join(p for p, _ in readers)} found no text in it)")
