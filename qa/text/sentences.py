"""Sentences of a passage: the one splitter every stage uses (the chunker's titles, the index's
sentence vectors, the highlight).  No project imports."""

from __future__ import annotations

import re

_SENT = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]*[”’」』）)]*")
# An English full stop ends a sentence when a lower-case word, a figure or a bracket comes
# before it (a closing bracket or quote may follow it) and a capital (or an opening quote or
# bracket) after the space: "… in 2019. The plan …", "(see annex.) Next".  Not "J.A. Hobson"
# (an initial), "3.5" or "www.gov.cn" (no space), "No. 5".
_EN_END = re.compile(r"(?:(?<=[a-z0-9%)][.])|(?<=[a-z0-9%)][.][)\"”’]))\s+(?=[A-Z\"“‘(])")

def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a passage (ends 。！？； and half-width forms, and
    an English full stop before a capital: ``_EN_END``).  The spans are contiguous within a
    line: the space after a full stop opens the next sentence, as after 。."""
    spans = []
    for m in _SENT.finditer(text):
        if not m.group(0).strip():
            continue
        start = m.start()
        for end in _EN_END.finditer(text, m.start(), m.end()):
            spans.append((start, end.start()))
            start = end.start()
        spans.append((start, m.end()))
    return spans
