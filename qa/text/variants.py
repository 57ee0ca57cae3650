"""Traditional Chinese read as Simplified, for matching: the one converter every stage uses.

A question or a bulletin written in Traditional characters (湖北社會工作專業人才總量目標) is matched,
tokenized and embedded in Simplified (湖北社会工作专业人才总量目标), through OpenCC's Traditional to
Simplified tables (``opencc-python-reimplemented``, its t2s configuration: phrases, then
characters).  Only the text used for matching is converted: a passage keeps its own characters,
so a citation quotes the original.

* A text is converted only when it reads as Traditional: at least ``TRADITIONAL_SHARE`` of its
  Chinese characters are Traditional-only forms (a character t2s changes that is no Simplified
  form itself: 會, 專, 總, not 乾 or 於, which Simplified text also writes).  A Simplified text is
  returned unchanged, character for character: nothing changes for a Simplified corpus.
* The conversion keeps the length (OpenCC's t2s phrases and characters map one character to
  one; a conversion that would not is done character by character), so a span found in the
  converted text is the same span of the original.

No project imports.
"""

from __future__ import annotations

import os
from functools import lru_cache

TRADITIONAL_SHARE = 0.05  # of a text's Chinese characters, Traditional-only, to read it as Traditional


def _dictionary(name: str) -> dict[str, list[str]]:
    import opencc

    path = os.path.join(os.path.dirname(opencc.__file__), "dictionary", name)
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, values = line.rstrip("\n").partition("\t")
            if key and values:
                out[key] = values.split(" ")
    return out


@lru_cache(maxsize=1)
def _tables() -> tuple[frozenset, dict[str, str], object]:
    """(the Traditional-only characters, the character map, OpenCC's t2s converter), made once."""
    import opencc

    ts, st = _dictionary("TSCharacters.txt"), _dictionary("STCharacters.txt")
    simplified_forms = {c for values in ts.values() for c in values} | set(st)
    chars = {k: v[0] for k, v in ts.items() if len(k) == 1 and len(v[0]) == 1 and v[0] != k}
    only = frozenset(c for c in chars if c not in simplified_forms)
    return only, chars, opencc.OpenCC("t2s")


def is_traditional(text: str) -> bool:
    """Does ``text`` read as Traditional Chinese (``TRADITIONAL_SHARE`` of its Chinese characters
    Traditional-only forms)?"""
    only = _tables()[0]
    cjk = sum(1 for c in text if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff")
    return bool(cjk) and sum(1 for c in text if c in only) >= TRADITIONAL_SHARE * cjk


def simplified(text: str) -> str:
    """``text`` in Simplified characters when it reads as Traditional (same length, character for
    character), else ``text`` itself."""
    if not text or not is_traditional(text):
        return text
    _only, chars, converter = _tables()
    out = converter.convert(text)
    if len(out) != len(text):  # not expected from t2s's tables; keep the spans whatever happens
        out = "".join(chars.get(c, c) for c in text)
    return out
