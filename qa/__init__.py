"""bulletin-qa: question answering with cited passages over Chinese social-work bulletins.

Pipeline, one module per stage (a stage never imports a later one):
ingest -> chunk -> embed -> store (+ lexical) -> retrieve -> api / generate / cli / app.py

``qa.search`` gives the passages; ``qa.answer`` (qa/generate.py) the answer in words from the
user's own model, checked against them.  The answering sentence of a passage is chosen in
qa/sentence.py.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from .api import Passage, build, search  # noqa: E402
from .store import BuildReport, IndexDamaged, IndexMissing  # noqa: E402
from .generate import Answer, LLMSettings, answer  # noqa: E402

__all__ = ["search", "answer", "build", "Passage", "Answer", "LLMSettings", "BuildReport", "IndexMissing",
           "IndexDamaged"]
__version__ = "0.1.0"
