"""bulletin-qa: question answering with cited passages over Chinese social-work bulletins.

Pipeline, one module per stage (a stage never imports a later one):
ingest -> chunk -> embed -> store (+ lexical) -> retrieve -> api / cli / app.py
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from .api import Passage, build, search  # noqa: E402
from .store import BuildReport, IndexDamaged, IndexMissing  # noqa: E402

__all__ = ["search", "build", "Passage", "BuildReport", "IndexMissing", "IndexDamaged"]
__version__ = "0.1.0"
