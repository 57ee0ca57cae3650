"""Reaching the user's model: the request in a thread of its own, read as raw bytes, so that the
answer waits for it with a wall-clock deadline whatever the server sends (role-only deltas,
reasoning, keep-alive comments, one byte a second) or does not send.  ``qa/generate/llm.py``
makes the prompt and reads the reply's sentences."""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from typing import Iterator

MAX_TOKENS = 1500  # a short answer is a few hundred tokens, a reasoning model's <think> more; bounds time and cost
MAX_BODY_BYTES = 1 << 20  # a non-streamed body, or a stream's event, larger than this is not a chat reply


class ModelFailed(Exception):
    """The endpoint did not give a usable reply; the message is the note."""


class ModelWorker:
    """The request to the model, in a thread of its own: the answer waits for it with a
    wall-clock deadline (:meth:`events`), whatever the server sends meanwhile (role-only deltas,
    reasoning, keep-alive comments, one byte a second) or does not send.  The thread checks
    ``stop`` after every read and closes its response itself; at worst it ends one read
    timeout after the answer gave up on it."""

    def __init__(self, settings, messages: list[dict], stream: bool):
        self.settings, self.messages, self.stream = settings, messages, stream
        self.queue: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bulletin-qa-model", daemon=True)

    def _run(self) -> None:
        try:
            client = _client(self.settings)
            model = self.settings.model or _first_model(client, self.settings)
            self.queue.put(("model", model))
            for piece in _complete(client, self.settings, model, self.messages, self.stream, self.stop):
                if self.stop.is_set():
                    return
                self.queue.put(("piece", piece))
            self.queue.put(("end", None))
        except BaseException as e:  # noqa: BLE001 - handed to the answer, which makes it a note
            self.queue.put(("error", e))

    def events(self, deadline: float, late: Exception) -> Iterator[tuple[str, object]]:
        """("model", name), then ("piece", text) ... until the reply's end; raises what the
        request raised, or ``late`` at ``deadline`` (time.monotonic())."""
        self.thread.start()
        while True:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise queue.Empty
                kind, value = self.queue.get(timeout=left)
            except queue.Empty:
                raise late from None
            if kind == "error":
                raise value
            if kind == "end":
                return
            yield kind, value


def _client(settings):
    from openai import OpenAI  # imported only when a model is configured

    # the key is the one given for this endpoint; never OPENAI_API_KEY from the environment,
    # which would go to whatever server BULLETIN_QA_LLM_URL names
    return OpenAI(base_url=settings.url, api_key=settings.api_key or "none", timeout=settings.timeout,
                  max_retries=settings.max_retries)


def _first_model(client, settings) -> str:
    models = [m.id for m in client.models.list()]
    if not models:
        raise ModelFailed(f"the endpoint at {settings.where} lists no model (set BULLETIN_QA_LLM_MODEL)")
    return models[0]


def _complete(client, settings, model: str, messages: list[dict], stream: bool,
              stop: threading.Event) -> Iterator[str]:
    """The reply's text, in pieces as they arrive (one piece when not streamed).  The body is read
    as raw bytes, ``stop`` checked after each read: a body trickled one byte at a time is
    abandoned as soon as the answer stops waiting."""
    kwargs = dict(model=model, messages=messages, temperature=0, max_tokens=MAX_TOKENS)
    where = f"the model at {settings.where}"
    with client.chat.completions.with_streaming_response.create(stream=stream, **kwargs) as response:
        if not stream:
            body = bytearray()
            for data in response.iter_bytes():
                if stop.is_set():
                    return
                body += data
                if len(body) > MAX_BODY_BYTES:
                    raise ModelFailed(f"{where} returned more than {MAX_BODY_BYTES >> 20} MB")
            yield _message_text(bytes(body), where)
            return
        events = 0
        for data in _sse_data(response.iter_bytes(), stop, where):
            if data == "[DONE]":
                break
            chunk = _json_object(data, where, "a chat completion stream")
            events += 1
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") if isinstance(choice, dict) else None
                text = delta.get("content") if isinstance(delta, dict) else None
                if isinstance(text, str) and text:
                    yield text
    if not events and not stop.is_set():  # a 200 that is not a stream of chat-completion events
        raise ModelFailed(f"{where} returned something that is not a chat completion stream")


def _sse_data(chunks: Iterator[bytes], stop: threading.Event, where: str) -> Iterator[str]:
    """The data of each server-sent event in ``chunks`` (comments and other fields skipped)."""
    buf = b""
    for data in chunks:
        if stop.is_set():
            return
        buf += data
        while True:
            cut = re.search(rb"\r?\n\r?\n", buf)
            if cut is None:
                break
            event, buf = buf[:cut.start()], buf[cut.end():]
            lines = [ln[5:].removeprefix(b" ") for ln in re.split(rb"\r?\n", event) if ln.startswith(b"data:")]
            if lines:
                yield b"\n".join(lines).decode("utf-8", "replace").strip()
        if len(buf) > MAX_BODY_BYTES:
            raise ModelFailed(f"{where} sent an event of more than {MAX_BODY_BYTES >> 20} MB")


def _json_object(data: bytes | str, where: str, what: str) -> dict:
    try:
        obj = json.loads(data)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        raise ModelFailed(f"{where} returned something that is not {what}")
    if obj.get("error"):
        err = obj["error"]
        raise ModelFailed(f"{where} returned an error: {_short(err.get('message') if isinstance(err, dict) else err)}")
    return obj


def _message_text(body: bytes, where: str) -> str:
    """The text of a non-streamed chat completion."""
    choices = _json_object(body, where, "a chat completion").get("choices")
    if not isinstance(choices, list):
        raise ModelFailed(f"{where} returned something that is not a chat completion")
    message = choices[0].get("message") if choices and isinstance(choices[0], dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


def _short(x, n: int = 160) -> str:
    s = re.sub(r"\s+", " ", str(x)).strip()
    return s if len(s) <= n else s[: n - 1] + "…"
