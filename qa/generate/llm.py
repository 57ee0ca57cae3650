"""Present stage: an answer in words from the user's own language model, every sentence cited
and checked against the passages it cites before anything is shown.

    >>> from qa import answer
    >>> a = answer("甘肃酒泉 certified-worker goal")     # BULLETIN_QA_LLM_URL / _MODEL / _API_KEY
    >>> print(a.text)                                      # "…[1]"
    >>> a.citations[1].citation, a.generated, a.unsupported, a.note

No model is shipped.  Any OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp's server,
LM Studio, a cloud API) is reached with the ``openai`` client at its ``base_url``.  With no URL
configured nothing is sent anywhere (the ``openai`` package is not even imported) and the answer
is the extractive one: the best passage's answering sentence, cited [1].

The order of things in :func:`stream_answer`:

1. ``search()``; its verdict gates the model: a question the bulletins do not answer is not
   sent (the reason is the note);
2. the prompt (``PROMPT_*`` below, one place, each instruction with its reason) gives the
   passages numbered [1]..[k] in ranking order with their titles and citations;
3. the reply is read (streamed or not) and cut into sentences; a sentence is checked as soon as
   it is complete (its end and the markers after it have arrived), never shown before;
4. the check (:func:`check_sentence`): the sentence cites at least one passage, every marker
   names a retrieved passage, every number, percentage, year and place name of the sentence
   occurs (after NFKC) in a passage it cites (title included).  A sentence that fails is kept
   out of ``Answer.text`` and listed in ``Answer.unsupported`` with the reason (the page and
   the CLI show it struck through with a warning);
5. nothing left, an empty reply, an error, a timeout: the extractive answer, with a note.

What is *not* checked: the words between the figures.  A model can still paraphrase wrongly
(a target called an achievement, a county's figure given to the province it is in, a
negation) without changing a number or a name, and such a sentence passes.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

from qa.generate.transport import MAX_TOKENS, ModelFailed, ModelWorker, _short  # noqa: F401 (MAX_TOKENS: its name here)
from qa.messages import Msg
from qa.retrieve.listing import list_text
from qa.retrieve.results import Passage, Results
from qa.generate.check import MARKER, check_sentence
from qa.settings import Settings
from qa.text.chars import zh_share

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0  # seconds to connect, and to wait for the reply (for each piece of a stream)
DEFAULT_RETRIES = 1  # the openai client retries a failed connection, 408/409/429 and 5xx once
TOTAL_TIMEOUTS = 4  # the whole answer must be complete within this many timeouts, whatever arrives meanwhile
# a server may ignore MAX_TOKENS: the reply is read up to this many characters (1500 tokens are at
# most ~6,000 characters) and this many sentences (the prompt asks for one to three), then cut
MAX_REPLY_CHARS = 8000
MAX_SENTENCES = 12


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class LLMSettings:
    """Where the model is: ``url`` is the OpenAI-compatible base URL (``http://127.0.0.1:11434/v1``
    for Ollama); ``model`` empty means the first model the endpoint lists at ``/models``."""

    url: str
    model: str = ""
    api_key: str = ""
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_RETRIES

    @property
    def where(self) -> str:
        """The URL without any user:password part, for notes shown to people."""
        parts = urlsplit(self.url)
        if parts.username or parts.password:
            host = parts.hostname or ""
            if parts.port:
                host += f":{parts.port}"
            return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        return self.url


def llm_settings(url: str | None = None, model: str | None = None, api_key: str | None = None,
                 timeout: float | None = None, max_retries: int | None = None, *,
                 settings: Settings | None = None) -> LLMSettings | None:
    """The model to ask: each argument, else its setting in ``settings`` (``Settings.from_env()``
    at the edges: ``BULLETIN_QA_LLM_URL``, ``BULLETIN_QA_LLM_MODEL``, ``BULLETIN_QA_LLM_API_KEY``,
    ``BULLETIN_QA_LLM_TIMEOUT`` in seconds, ``BULLETIN_QA_LLM_RETRIES``; default ``Settings()``).
    None when no URL is set: no model, no network."""
    settings = settings if settings is not None else Settings()
    url = (url or settings.llm_url or "").strip()
    if not url:
        return None
    if not re.match(r"https?://", url, re.I):
        raise ValueError(f"the model URL must start with http:// or https://, not {url!r}")
    if timeout is None:
        timeout = settings.llm_timeout
    if max_retries is None:
        max_retries = settings.llm_retries
    if not 0 < timeout <= 3600:
        raise ValueError(f"the model timeout must be between 0 and 3600 seconds, not {timeout}")
    if not 0 <= max_retries <= 5:
        raise ValueError(f"the model retries must be between 0 and 5, not {max_retries}")
    return LLMSettings(url=url, model=(model or settings.llm_model or "").strip(),
                       api_key=api_key or settings.llm_api_key or "",
                       timeout=float(timeout), max_retries=int(max_retries))


# --------------------------------------------------------------------------- the prompt
#
# Every instruction, and why it is there.  The passages follow in the user message, numbered
# [1]..[k] in ranking order (the best first, as the cards below the answer are numbered), each
# with its article title and its citation (file, lines): the model can tell articles and places
# apart, and the numbers it writes are the numbers of the cards the answer links to.

PROMPT_RULES_ZH = [
    # only the passages: every claim must be checkable against what was retrieved; the model's
    # own knowledge (or last year's figures) can be neither cited nor checked
    "只根据下面编号的段落回答问题，不要使用段落以外的知识。",
    # short: the passages are shown right below the answer; a long answer repeats them and has
    # more room to go wrong
    "回答要简短：一到三句话。",
    # a marker on every sentence: it links the sentence to its card and tells the check which
    # passages to compare the sentence with; a sentence without one is not shown
    "每句话末尾用方括号标出它依据的段落编号，例如 [1] 或 [2][3]；只能引用上面给出的编号。",
    # figures copied as written: the check compares every number, percentage, year and place
    # name with the cited passages literally (after NFKC); a rewritten figure is struck out
    "数字、百分比、年份和地名必须照段落原样抄写（例如写“8万人”“2025年”，不要换算或改写）。",
    # an explicit way out: a model that must answer invents; this reply is recognised and the
    # extractive answer is shown instead
    "如果这些段落不能回答问题，只回答：段落中没有答案。",
    # plain text: the page shows the reply as text and the check reads it sentence by sentence;
    # Markdown, lists and preambles are noise in both
    "只输出答案本身，用纯文本，不要标题、列表、Markdown 或开场白。",
]
PROMPT_RULES_EN = [
    "Answer the question using only the numbered passages below, not your own knowledge.",
    "Be short: one to three sentences.",
    "End every sentence with the numbers of the passages it rests on in square brackets, "
    "like [1] or [2][3]; cite only the numbers given.",
    "Copy every number, percentage, year and place name exactly as the passage writes it "
    "(digits, not words; do not convert units).",
    "If the passages do not answer the question, reply only: The passages do not say.",
    "Write plain text only: no headings, lists, Markdown or preamble.",
]
# the language of the answer is the question's: Chinese for a Chinese or mixed question (the
# bulletins are Chinese, and a mixed question comes from a reader of Chinese), else English
PROMPT_LANGUAGE = {"zh": "请用简体中文回答。", "en": "Answer in English."}
NO_ANSWER = ("段落中没有答案", "the passages do not say")
# temperature 0: the most likely reading of the passages, the least invention, repeatable


def question_language(query: str) -> str:
    return "zh" if zh_share(query) > 0 else "en"


def build_messages(query: str, passages: list[Passage]) -> list[dict]:
    """The chat messages sent to the model: the rules, then the passages and the question."""
    lang = question_language(query)
    rules = PROMPT_RULES_ZH if lang == "zh" else PROMPT_RULES_EN
    system = ("你是社会工作简报的问答助手。\n" if lang == "zh" else
              "You answer questions about Chinese social-work bulletins.\n")
    system += "\n".join(f"- {r}" for r in rules) + "\n" + PROMPT_LANGUAGE[lang]
    blocks = []
    for n, p in enumerate(passages, 1):
        where = p.citation.removeprefix(p.title).strip() if p.title else p.citation
        blocks.append(f"[{n}] 标题：{p.title or '（无标题）'}\n出处：{where}\n{p.text.strip()}")
    user = "段落：\n\n" + "\n\n".join(blocks) + f"\n\n问题：{query.strip()}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


# --------------------------------------------------------------------------- the answer


@dataclass
class Checked:
    """One sentence of the model's reply: as shown (markers as [n]), the passages it cites,
    whether it passed the check and, when not, why."""

    sentence: str
    markers: list[int] = field(default_factory=list)
    ok: bool = True
    reason: str = ""

    def to_dict(self) -> dict:
        return {"sentence": self.sentence, "markers": list(self.markers), "ok": self.ok, "reason": self.reason}


@dataclass
class Answer:
    """``text``: the answer with [n] markers (only sentences that passed the check);
    ``citations``: marker -> the passage it cites; ``passages``: what was retrieved (with the
    search's verdict); ``generated``: a model wrote ``text``; ``answered``: the search's verdict;
    ``unsupported``: the model's sentences that failed the check, with why; ``note``: why no
    model was used or what went wrong, in a sentence; ``model``: the model asked;
    ``sentences``: every sentence of the reply in order, passed or not; ``done``: False for
    the partial answers :func:`stream_answer` yields while the model writes."""

    query: str
    text: str = ""
    citations: dict[int, Passage] = field(default_factory=dict)
    passages: list[Passage] = field(default_factory=list)
    generated: bool = False
    answered: bool = False
    unsupported: list[Checked] = field(default_factory=list)
    note: str = ""
    model: str = ""
    reason: str = ""
    sentences: list[Checked] = field(default_factory=list)
    done: bool = True
    items: tuple = ()  # a list question's items: the ranks of the passages listed (qa/retrieve/listing.py)

    def to_dict(self) -> dict:
        return {"query": self.query, "text": self.text,
                "citations": {str(n): p.to_dict() for n, p in sorted(self.citations.items())},
                "passages": [p.to_dict() for p in self.passages], "generated": self.generated,
                "answered": self.answered, "reason": self.reason,
                "unsupported": [c.to_dict() for c in self.unsupported], "note": self.note,
                "model": self.model, "sentences": [c.to_dict() for c in self.sentences], "done": self.done,
                "items": list(self.items)}


def extractive(base: Answer) -> Answer:
    """The answer without a model: the best passage's answering sentence, cited [1]; a list
    question's items one per line, each cited (qa/retrieve/listing.py ``list_text``)."""
    if not base.passages or not base.answered:
        return replace(base, text="", citations={}, generated=False)
    if len(listed := [base.passages[r - 1] for r in base.items if 0 < r <= len(base.passages)]) >= 2:
        return replace(base, text=list_text(listed), citations={p.rank: p for p in listed}, generated=False)
    top = base.passages[0]
    return replace(base, text=f"{(top.answer or top.text).strip()}[1]", citations={1: top}, generated=False)


def answer_from(query: str, passages: Results, *, llm: LLMSettings | None = None, stream: bool = False) -> Answer:
    """The answer to ``query`` over ``passages`` (a search's :class:`Results`, with its verdict):
    written by the configured model and checked against them, or the extractive answer (see the
    module docstring).  ``llm``: where the model is (None: no model, no request anywhere;
    ``qa.answer`` gives the one the environment names).  ``stream``: read the reply as a stream
    (the page does); the result is the same.  The model's failures never raise, they become the
    note."""
    last = None
    for last in stream_from(query, passages, llm=llm, stream=stream):
        pass
    return last


def stream_from(query: str, passages: Results, *, llm: LLMSettings | None = None,
                stream: bool = True) -> Iterator[Answer]:
    """Partial answers (``done`` False) as the model's sentences arrive and are checked, then
    the final one (``done`` True).  Nothing unchecked is ever in a yielded answer."""
    base = Answer(query, passages=list(passages), answered=passages.answered, reason=passages.reason,
                  items=tuple(getattr(passages, "items", ())))
    settings = llm if llm is not None else llm_settings()
    if settings is None:
        yield replace(extractive(base), note=Msg("llm.no_model", "no model configured (BULLETIN_QA_LLM_URL): the "
                                                 "extractive answer", "未配置模型（BULLETIN_QA_LLM_URL）：显示的是抽取的原文句子"))
        return
    if not passages:
        yield replace(base, note=Msg("llm.no_passage", "no passage found: nothing was sent to the model",
                                     "没有找到段落：没有发送给模型"))
        return
    if not passages.answered:
        yield replace(base, note=Msg("llm.not_sent", "not sent to the model: the bulletins do not answer this ({reason})",
                                     "没有发送给模型：简报没有回答这个问题（{reason}）", reason=passages.reason))
        return
    reader = ReplyReader(base.passages, question_language(query))
    model, total = settings.model, TOTAL_TIMEOUTS * settings.timeout
    worker = ModelWorker(settings, build_messages(query, base.passages), stream)
    try:
        late = ModelFailed(Msg("llm.unfinished", "the model at {where} did not finish within {s:g} s",
                               "{where} 上的模型在 {s:g} 秒内没有写完", where=settings.where, s=total))
        for kind, value in worker.events(time.monotonic() + total, late):
            if kind == "model":
                model = base.model = value
                yield replace(base, done=False)
            elif reader.feed(value):
                yield reader.answer(base, done=False)
            if reader.full:
                break
        else:
            reader.finish()
    except Exception as e:  # a model's failure is a note on the page, never an exception
        note = e.args[0] if isinstance(e, ModelFailed) else _failure_note(e, settings)
        log.info("%s", note)
        yield replace(extractive(base), model=model, sentences=reader.sentences, unsupported=reader.failed,
                      note=extractive_shown(note))
        return
    finally:
        worker.stop.set()  # the reading thread ends at its next read (or its read timeout)
    yield reader.final(base, settings)


def _failure_note(e: Exception, settings: LLMSettings) -> str:
    import openai

    where = settings.where
    tries = Msg("llm.attempts", " ({n} attempts)", "（尝试 {n} 次）", n=settings.max_retries + 1) if settings.max_retries else ""
    if isinstance(e, openai.APITimeoutError):
        return Msg("llm.timeout", "the model at {where} did not answer within {s:g} s{tries}",
                   "{where} 上的模型在 {s:g} 秒内没有回答{tries}", where=where, s=settings.timeout, tries=tries)
    if isinstance(e, openai.APIConnectionError):
        return Msg("llm.unreachable", "the model at {where} could not be reached{tries}: {cause}",
                   "无法连接 {where} 上的模型{tries}：{cause}", where=where, tries=tries, cause=_short(e.__cause__ or e))
    if isinstance(e, openai.APIStatusError):
        body = e.body.get("message") if isinstance(e.body, dict) else None
        return Msg("llm.http", "the model at {where} returned an error: HTTP {status}{body}",
                   "{where} 上的模型返回了错误：HTTP {status}{body}", where=where, status=e.status_code,
                   body=f" ({_short(body)})" if body else "")
    return not_chat(where, detail=f" ({type(e).__name__}: {_short(e)})")


def join_notes(notes: list) -> "Msg | str":
    """Notes one after the other, "; " between them (each said in the page's language)."""
    if not notes:
        return ""
    if len(notes) == 1:
        return notes[0]
    return Msg("llm.notes", "{first}; {rest}", "{first}；此外，{rest}", first=notes[0], rest=join_notes(notes[1:]))


def left_out(n: int) -> Msg:
    """The note on a model's answer ``n`` of whose sentences failed the check."""
    if n == 1:
        return Msg("llm.one_failed", "1 sentence of the model's answer did not pass the check and is left out (struck "
                   "through)", "模型回答中有 1 句未通过核对，已删去（以删除线标出）")
    return Msg("llm.some_failed", "{n} sentences of the model's answer did not pass the check and are left out "
               "(struck through)", "模型回答中有 {n} 句未通过核对，已删去（以删除线标出）", n=n)


def not_chat(where: str, stream: bool = False, detail: str = "") -> Msg:
    if stream:
        return Msg("llm.not_stream", "the model at {where} returned something that is not a chat completion stream",
                   "{where} 上的模型返回的不是聊天回复", where=where)
    return Msg("llm.not_chat", "the model at {where} returned something that is not a chat completion{detail}",
               "{where} 上的模型返回的不是聊天回复{detail}", where=where, detail=detail)


def extractive_shown(note) -> Msg:
    """A note of the model's answer followed by "the extractive answer is shown"."""
    return Msg("llm.extractive", "{note}; the extractive answer is shown", "{note}；显示的是抽取的原文句子", note=note)


# --------------------------------------------------------------------------- reading the reply

# where a sentence ends: 。！？!? (with closing quotes), a line break, or an English full stop
_END = re.compile(r"[。！？!?]+[”’\"'』」）)]*|\n+|(?<![0-9])\.(?=\s|\Z|\[)"
                  r"|(?<=[0-9])(?<!^\d)(?<!^\d\d)\.(?=\s|\Z)", re.M)  # not "1. " opening a list item
_TRAIL = re.compile(r"(?:[ \t]*" + MARKER.pattern + r")*")
_PARTIAL_MARKER = re.compile(r"\s*(?:" + MARKER.pattern + r"\s*)*(?:[\[【［][0-9０-９,，、;；\s]*)?")
_THINK = re.compile(r"<think>.*?</think>", re.S)
_LIST_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|[-*•]\s+|\d{1,2}[.)](?=\s)\s*|\(\d{1,2}\)\s*|\d{1,2}、|[一二三四五六七八九十]{1,2}、)")


def _visible(raw: str, final: bool) -> str:
    """The reply without a reasoning model's <think>…</think> (an unclosed one hides the rest)
    and without Markdown emphasis."""
    text = _THINK.sub("", raw)
    start = text.find("<think>")
    if start >= 0:
        text = text[:start]
    elif not final and "<think>".startswith(text.lstrip()[:7]) and text.strip():
        return ""  # "<thi…": wait for the rest of the tag
    return text.replace("**", "").replace("__", "")


def markers_of(sentence: str) -> list[int]:
    out = []
    for m in MARKER.finditer(sentence):
        for n in re.split(r"\s*[,，、;；]\s*", unicodedata.normalize("NFKC", m.group(1))):
            if n.strip() and int(n) not in out:
                out.append(int(n))
    return out


def split_sentences(text: str, final: bool = True) -> list[tuple[str, list[int]]]:
    """(sentence as shown, markers) for each complete sentence of ``text``; the markers right
    after a sentence's end belong to it (…以上。[1], even on the next line), as do those inside
    it (…以上[1]。).  ``final`` False: the text is still arriving; a sentence is complete once
    something that cannot be one of its markers follows it."""
    return [(shown, marks) for shown, marks, _ in _split(text, final)]


def _split(text: str, final: bool) -> list[tuple[str, list[int], int]]:
    """:func:`split_sentences` with where each sentence (and its markers) ends in ``text``."""
    pieces, pos = [], 0  # (piece, where it ends)
    for m in _END.finditer(text):
        if m.start() < pos:
            continue
        end = _TRAIL.match(text, m.end()).end()
        pieces.append((text[pos:end], end))
        pos = end
    if final and text[pos:].strip():
        pieces.append((text[pos:], len(text)))
    out: list[tuple[str, list[int], int]] = []
    for piece, end in pieces:
        marks = markers_of(piece)
        lines = [_LIST_PREFIX.sub("", line) for line in piece.split("\n")]
        shown = MARKER.sub(lambda m: "".join(f"[{n}]" for n in markers_of(m.group(0))), " ".join(
            line.strip() for line in lines if line.strip())).strip()
        if not re.sub(r"[\W_]+", "", MARKER.sub("", shown)):  # only markers: of the sentence before
            if out and marks:
                prev, prev_marks, _ = out[-1]
                more = [n for n in marks if n not in prev_marks]
                out[-1] = (prev + "".join(f"[{n}]" for n in more), prev_marks + more, end)
            continue
        out.append((shown, marks, end))
    if not final and out and _PARTIAL_MARKER.fullmatch(text[out[-1][2]:]):
        out.pop()  # nothing but (the start of) markers after it yet: they may be its own
    return out


class ReplyReader:
    """The reply as it arrives: its complete sentences, each checked once.  Linear in the reply:
    only what arrived after the last complete sentence (``pending``) is read again when a piece
    arrives, and only when it holds a sentence's end.  A sentence the reply repeats is checked
    and shown once.  ``full``: the reply passed ``MAX_REPLY_CHARS`` or ``MAX_SENTENCES``."""

    def __init__(self, passages: list[Passage], lang: str):
        self.passages, self.lang = passages, lang
        self.pieces: list[str] = []
        self.size = 0
        self.pending = ""  # the reply after its last complete sentence, <think> blocks and ** taken out
        self._no_end = 0  # pending[:_no_end] holds no sentence end
        self._think_scan = 0  # an open <think> in pending: its close is not before this
        self.sentences: list[Checked] = []
        self._seen: set[str] = set()
        self.repeated = 0

    @property
    def raw(self) -> str:
        return "".join(self.pieces)

    @property
    def full(self) -> bool:
        return self.size > MAX_REPLY_CHARS or len(self.sentences) >= MAX_SENTENCES

    def _visible_pending(self, final: bool) -> str:
        """``pending`` as the reader sees it: closed <think> blocks removed from it for good, an
        open one hiding the rest, "<thi" at the very start waiting for the rest of the tag."""
        while True:
            start = self.pending.find("<think>")
            if start < 0:
                break
            close = self.pending.find("</think>", max(start, self._think_scan))
            if close < 0:
                self._think_scan = max(start, len(self.pending) - len("</think>"))
                return self.pending[:start]
            self.pending = self.pending[:start] + self.pending[close + len("</think>"):]
            self._think_scan, self._no_end = 0, 0
        head = self.pending.lstrip()[:7]
        if not final and not self.sentences and head and "<think>".startswith(head):
            return ""  # "<thi…": wait for the rest of the tag
        return self.pending

    def feed(self, piece: str, final: bool = False) -> bool:
        """Add a piece of the reply; True when a sentence was completed (and checked)."""
        if piece:
            self.pieces.append(piece)
            self.size += len(piece)
            tail = len(self.pending)
            self.pending = (self.pending[:max(0, tail - 1)] + (self.pending[max(0, tail - 1):] + piece)
                            .replace("**", "").replace("__", ""))  # Markdown emphasis, even split in two
        text = self._visible_pending(final)
        if not final and not _END.search(text, max(0, self._no_end - 4)):
            self._no_end = len(text)
            return False
        done = _split(text, final)
        if not done:
            return False
        self.pending, self._no_end, self._think_scan = self.pending[done[-1][2]:], 0, 0
        added = False
        for sentence, marks, _end in done:
            if sentence in self._seen:
                self.repeated += 1
                continue
            self._seen.add(sentence)
            ok, reason = check_sentence(sentence, marks, self.passages)
            self.sentences.append(Checked(sentence, marks, ok, reason))
            added = True
        return added

    def finish(self) -> None:
        self.feed("", final=True)

    @property
    def failed(self) -> list[Checked]:
        return [c for c in self.sentences if not c.ok]

    def answer(self, base: Answer, done: bool) -> Answer:
        ok = [c for c in self.sentences if c.ok]
        text = (" " if self.lang == "en" else "").join(c.sentence for c in ok)
        cited = {n: self.passages[n - 1] for c in ok for n in c.markers}
        return replace(base, text=text, citations=dict(sorted(cited.items())), generated=bool(ok),
                       sentences=list(self.sentences), unsupported=self.failed, done=done)

    def final(self, base: Answer, settings: LLMSettings) -> Answer:
        where = settings.where
        said = re.sub(r"[\W_]+", "", _visible(self.raw, True)).lower()
        if not said:
            return replace(extractive(base), note=extractive_shown(Msg(
                "llm.empty", "the model at {where} returned an empty answer", "{where} 上的模型返回了空回答", where=where)))
        if any(re.sub(r"\W+", "", n).lower() in said for n in NO_ANSWER) and not any(c.markers for c in self.sentences):
            return replace(extractive(base), sentences=list(self.sentences),
                           note=extractive_shown(Msg("llm.no_answer", "the model at {where} found no answer in the "
                                                     "passages", "{where} 上的模型认为段落中没有答案", where=where)))
        result = self.answer(base, done=True)
        if not result.generated:
            n = len(self.failed)
            return replace(extractive(base), sentences=result.sentences, unsupported=result.unsupported,
                           note=extractive_shown(Msg("llm.none_passed", "no sentence of the model's answer passed "
                                                     "the check ({n} struck out)", "模型回答中没有一句通过核对（删去 {n} 句）", n=n)))
        notes = []
        if result.unsupported:
            notes.append(left_out(len(result.unsupported)))
        if self.full:
            notes.append(Msg("llm.cut", "the model's answer was longer than what is read of it ({n} sentences, {chars} "
                             "characters) and was cut there", "模型的回答超过了读取上限（{n} 句，{chars} 个字符），在此截断",
                             n=MAX_SENTENCES, chars=f"{MAX_REPLY_CHARS:,}"))
        if self.repeated:
            notes.append(Msg("llm.repeated", "{n} repeated sentences left out", "已删去 {n} 句重复的句子", n=self.repeated)
                         if self.repeated > 1 else Msg("llm.repeated_one", "1 repeated sentence left out",
                                                       "已删去 1 句重复的句子"))
        result.note = join_notes(notes)
        return result
