"""bulletin-qa: question answering with cited passages over Chinese social-work bulletins.

Pipeline, one module per stage (a stage never imports a later one):
ingest -> chunk -> embed -> store (+ lexical; a folder or PostgreSQL, qa/stores.py) -> retrieve ->
api / generate / evaluate / cli / ui (the page; app.py at the top level launches it).
tests/test_layout.py holds the stage of every module and fails on a backward import.

``qa.search`` gives the passages; ``qa.answer`` (qa/generate.py) the answer in words from the
user's own model, checked against them.  The answering sentence of a passage is chosen in
qa/sentence.py.
"""


from . import settings  # noqa: E402

settings.offline()  # no model hub, no analytics: once, here

from .api import Passage, build, search  # noqa: E402
from .store import BuildReport, IndexDamaged, IndexMissing  # noqa: E402
from .generate import Answer, LLMSettings, answer  # noqa: E402

__all__ = ["search", "answer", "build", "Passage", "Answer", "LLMSettings", "BuildReport", "IndexMissing",
           "IndexDamaged"]
__version__ = "0.1.0"
