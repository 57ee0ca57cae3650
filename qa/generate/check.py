"""The claim check: a sentence of the model's answer passes when it cites a passage and every
figure and place name in it occurs in a passage it cites.  Numbers are compared by value and
kind, read by the one figure parser of the text layer (``qa/text/figures.py``) in the sentence and
in the passage alike: 8万 = 80000, 七章 = 7章, 叁仟 = 3000, 九成 = 90 %, but 每千名 (a rate) is
not 1000名.  Places are China's divisions (qa/text/lexicon.py), in Chinese or romanised, in any
case (SUZHOU).  Both are read in the text as a reader sees it (``visible``: no zero-width
characters, so 苏\u200b州 is 苏州)."""

from __future__ import annotations

import re

from qa.messages import Msg
from qa.retrieve.results import Passage
from qa.text.figures import cn_value, figures_in, values_in, visible, vouched  # noqa: F401 (cn_value, figures_in: the parser's names here)

# a marker: [1], [1, 2], [1][2], 【1】, ［1］ (the check reads them; the answer shows [n])
MARKER = re.compile(r"[\[【［]\s*([0-9０-９]{1,3}(?:\s*[,，、;；]\s*[0-9０-９]{1,3})*)\s*[\]】］]")


def places_named(text: str) -> list[tuple[str, list]]:
    """The places a sentence names: (as written, candidate qa.text.lexicon.Place list).  Chinese names
    by the division list; a capitalised romanised name (Jiuquan, Gansu) by its pinyin."""
    from qa.text.lexicon import places
    from qa.retrieve.query import is_english_word

    table = places()
    text = visible(text)
    flat = re.sub(r"\s+", "", text)
    out = [(flat[a:b], list(hit)) for a, b, hit in table.find(flat)]
    # any case: SUZHOU and suzhou are Suzhou; an English word (Hefei is not one, "long" is) is not a place
    words = list(re.finditer(r"\b[A-Za-z]+(?:['’][A-Za-z]+)?\b", text))
    skip = False
    for m, nxt in zip(words, words[1:] + [None]):
        if skip:
            skip = False
            continue
        key = re.sub(r"['’]", "", m.group(0)).lower()
        if nxt is not None and re.fullmatch(r"[ -]", text[m.end():nxt.start()]):  # Gan Su, Xi-an
            pair = key + re.sub(r"['’]", "", nxt.group(0)).lower()
            if pair in table.pinyin:
                out.append((text[m.start():nxt.end()], list(table.pinyin[pair])))
                skip = True
                continue
        if key in table.pinyin and not is_english_word(key):
            out.append((m.group(0), list(table.pinyin[key])))
    return out


def check_sentence(sentence: str, markers: list[int], passages: list[Passage]) -> tuple[bool, str]:
    """(passed, why not): the sentence cites a passage, every marker names a retrieved passage,
    and every number, percentage, year and place name in it occurs (after NFKC) in a passage
    it cites (its title included)."""
    if not markers:
        return False, Msg("check.no_cite", "cites no passage", "没有引用任何段落")
    beyond = [n for n in markers if not 1 <= n <= len(passages)]
    if beyond:
        return False, Msg("check.beyond", "cites [{n}], but only {k} passages were retrieved", "引用了 [{n}]，但只检索到 {k} 个段落",
                          n=beyond[0], k=len(passages)) \
            if len(passages) != 1 else Msg("check.beyond_one", "cites [{n}], but only 1 passage was retrieved",
                                           "引用了 [{n}]，但只检索到 1 个段落", n=beyond[0])
    cited = "\n".join(f"{passages[n - 1].title}\n{passages[n - 1].text}" for n in markers)
    values = values_in(cited)
    flat = re.sub(r"\s+", "", visible(cited))
    body = MARKER.sub(" ", sentence)
    missing = [f.text for f in figures_in(body) if not vouched(f, values)]
    for shown, candidates in places_named(body):
        if not any(name in flat for p in candidates for name in p.names) and shown not in flat:
            missing.append(shown)
    if missing:
        which = "".join(f"[{n}]" for n in markers)
        what = ", ".join(dict.fromkeys(missing))
        if len(markers) > 1:
            return False, Msg("check.missing_many", "not in the cited passages {which}: {what}", "所引段落 {which} 中没有：{what}",
                              which=which, what=what)
        return False, Msg("check.missing", "not in the cited passage {which}: {what}", "所引段落 {which} 中没有：{what}",
                          which=which, what=what)
    return True, ""
