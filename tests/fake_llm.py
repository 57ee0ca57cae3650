"""A small OpenAI-compatible chat server for the tests, on 127.0.0.1 over real HTTP.

It serves ``GET /v1/models`` and ``POST /v1/chat/completions`` (a JSON reply, or server-sent
events with ``"stream": true``) and answers FROM THE PROMPT IT RECEIVES: it finds the passage
numbered [1] in the user message, copies its first sentence that holds a figure, and cites [1].
What else it does is chosen by the model name the client asks for (``MODELS``):

fake-good      the [1] sentence citing [1], then the [2] sentence citing [2] (when there is one)
fake-mixed     the [1] sentence citing [1], then a sentence with a made-up figure (9999名) citing [1]
fake-invented  only the [1] sentence with its first number replaced by 9999
fake-beyond    the [1] sentence citing [k+1], a passage that was not given
fake-empty     an empty reply
fake-think     a <think>…</think> block with a made-up figure, then what fake-good says
fake-noanswer  "段落中没有答案。"
fake-hang      accepts the request and never answers (until the server stops)
fake-trickle   streams what fake-good says, one character every 0.3 s
fake-500       HTTP 500 with an OpenAI-style error body
fake-garbage   HTTP 200 with an HTML page
fake-roleonly  a stream of role-only deltas (no content), one every 0.1 s, for as long as it is read
fake-reasoning a stream of ``reasoning_content`` deltas only (what reasoning models send first)
fake-keepalive a stream of SSE keep-alive comments (": keep-alive") and nothing else
fake-bytes     what fake-good says, as JSON or as a stream, one byte every ``byte_delay`` seconds
fake-repeat    fake-good's first sentence ``REPEAT`` times (8,000: a 150 KB answer), in
               ``chunk_size`` pieces

Every request is logged in ``server.requests`` (method, path, JSON body) so a test can assert
that none was made.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = ["fake-good", "fake-mixed", "fake-invented", "fake-beyond", "fake-empty", "fake-think",
          "fake-noanswer", "fake-hang", "fake-trickle", "fake-500", "fake-garbage", "fake-roleonly",
          "fake-reasoning", "fake-keepalive", "fake-bytes", "fake-repeat"]
ENDLESS = {"fake-roleonly": 'data: {"id":"x","object":"chat.completion.chunk","created":0,"model":"m",'
                            '"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}\n\n',
           "fake-reasoning": 'data: {"id":"x","object":"chat.completion.chunk","created":0,"model":"m",'
                             '"choices":[{"index":0,"delta":{"reasoning_content":"嗯"},"finish_reason":null}]}\n\n',
           "fake-keepalive": ": keep-alive\n\n"}
MADE_UP = "9999"
REPEAT = 8000


def passages_of(prompt: str) -> dict[int, str]:
    """The numbered passages of a prompt: n -> its text (the lines after its header lines)."""
    out: dict[int, str] = {}
    parts = re.split(r"^\[(\d+)\][^\n]*\n", prompt, flags=re.M)
    for n, body in zip(parts[1::2], parts[2::2]):
        lines = [ln for ln in body.split("\n") if ln.strip() and not re.match(r"(出处|标题|问题)[:：]", ln)]
        out[int(n)] = "\n".join(lines)
    return out


def figure_sentence(text: str) -> str:
    """The first sentence of a passage that holds a digit (else its first sentence), without
    its final punctuation."""
    sentences = [s.strip() for s in re.findall(r"[^。！？\n]+[。！？]?", text) if s.strip()]
    pick = next((s for s in sentences if re.search(r"\d", s)), sentences[0] if sentences else "")
    return pick.rstrip("。！？；，、 ")


def reply_for(model: str, prompt: str) -> str:
    found = passages_of(prompt)
    first = figure_sentence(found.get(1, ""))
    if model == "fake-empty":
        return ""
    if model == "fake-noanswer":
        return "段落中没有答案。"
    if model == "fake-invented":
        if re.search(r"\d", first):
            return re.sub(r"\d+(?:\.\d+)?", MADE_UP, first, count=1) + "[1]。"
        return f"{first}，共有{MADE_UP}名社会工作者参与[1]。"
    if model == "fake-beyond":
        return f"{first}[{len(found) + 1}]。"
    good = f"{first}[1]。"
    if model == "fake-repeat":
        return good * REPEAT
    if model == "fake-mixed":
        return good + f"此外，当地还将新增{MADE_UP}名社会工作者[1]。"
    if 2 in found:
        good += f"\n{figure_sentence(found[2])}。[2]"
    if model == "fake-think":
        return f"<think>也许是{MADE_UP}名？再看看段落。</think>\n" + good
    return good


class FakeLLM(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, chunk_delay: float = 0.01, chunk_size: int = 4, byte_delay: float = 0.3):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()  # releases hanging requests
        self.chunk_delay, self.chunk_size, self.byte_delay = chunk_delay, chunk_size, byte_delay
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def chat_requests(self) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def start(self) -> "FakeLLM":
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    server: FakeLLM

    def log_message(self, *args):  # quiet
        pass

    def _json(self, status: int, payload) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _log(self, body) -> None:
        with self.server.lock:
            self.server.requests.append({"method": self.command, "path": self.path, "body": body,
                                         "auth": self.headers.get("Authorization")})

    def do_GET(self):
        self._log(None)
        if self.path.rstrip("/").endswith("/v1/models"):
            self._json(200, {"object": "list", "data": [{"id": m, "object": "model", "created": 0,
                                                         "owned_by": "tests"} for m in MODELS]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = None
        self._log(body)
        if not self.path.rstrip("/").endswith("/v1/chat/completions") or not isinstance(body, dict):
            self._json(404, {"error": {"message": "not found", "type": "not_found"}})
            return
        model = body.get("model", "")
        if model == "fake-hang":
            self.server.stop.wait(120)
            return
        if model == "fake-500":
            self._json(500, {"error": {"message": "the model crashed", "type": "server_error"}})
            return
        if model == "fake-garbage":
            data = b"<html><body>502 Bad Gateway</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        prompt = "\n".join(m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user")
        text = reply_for(model, prompt)
        created = int(time.time())
        if model in ENDLESS:
            self._endless(ENDLESS[model].encode())
            return
        if model == "fake-bytes":
            self._bytes(model, text, created, bool(body.get("stream")))
            return
        if not body.get("stream"):
            self._json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": created, "model": model,
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                          "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(text),
                                       "total_tokens": len(prompt) + len(text)}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def event(delta: dict, finish=None):
            chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()

        try:
            event({"role": "assistant", "content": ""})
            size, delay = self.server.chunk_size, self.server.chunk_delay
            if model == "fake-trickle":
                size, delay = 1, 0.3
            for i in range(0, len(text), size):  # small pieces: markers and numbers arrive split
                if self.server.stop.is_set():
                    return
                event({"content": text[i:i + size]})
                time.sleep(delay)
            event({}, "stop")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _endless(self, event: bytes) -> None:
        """A 200 stream that sends ``event`` every 0.1 s and never an answer, until the client
        goes away, the server stops or a minute has passed."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        end = time.monotonic() + 60
        try:
            while not self.server.stop.is_set() and time.monotonic() < end:
                self.wfile.write(event)
                self.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _bytes(self, model: str, text: str, created: int, stream: bool) -> None:
        """The whole reply, as JSON (with its Content-Length) or as a stream, one byte every
        ``byte_delay`` seconds: every read gets something, and the reply takes minutes."""
        if stream:
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}]}
            data = f"data: {json.dumps(chunk, ensure_ascii=False)}\n\ndata: [DONE]\n\n".encode()
        else:
            data = json.dumps({"id": "x", "object": "chat.completion", "created": created, "model": model,
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                            "finish_reason": "stop"}]}, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if stream else "application/json")
        if not stream:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for i in range(len(data)):
                if self.server.stop.is_set():
                    return
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                time.sleep(self.server.byte_delay)
        except (BrokenPipeError, ConnectionResetError):
            pass
