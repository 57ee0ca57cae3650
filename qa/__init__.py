"""bulletin-qa: question answering with cited passages over Chinese social-work bulletins.

Pipeline, one module per stage (a stage never imports a later one):
ingest -> chunk -> embed -> store (+ lexical) -> retrieve -> api / generate / cli / app.py

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
