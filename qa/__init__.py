"""bulletin-qa: question answering with cited passages over Chinese social-work bulletins.

The pipeline, one subpackage per stage; a stage imports only earlier ones (tests/test_layout.py
reads the tree and checks it):

    text -> ingest -> embed -> index -> retrieve -> generate -> app

``qa/settings.py`` (every setting, read at the edges into a ``Settings`` value passed down) and
``qa/files.py`` (atomic writes, hashes) sit beside the stages.  The public face is re-exported
here: ``qa.Index`` is one index with its store, retriever and models; ``qa.search`` gives the
passages and the verdict, ``qa.build`` builds the index, ``qa.answer`` writes the answer with
the user's own model, checked against the passages (the three over a default Index).
docs/architecture.md: the stages, the Index, where settings are read, the process-wide state.
"""


from qa import settings  # noqa: E402

settings.offline()  # no model hub, no analytics: once, here

from qa.app.api import Index, Passage, answer, build, search  # noqa: E402
from qa.index.base import BuildReport, IndexDamaged, IndexMissing  # noqa: E402
from qa.generate.llm import Answer, LLMSettings  # noqa: E402

__all__ = ["search", "answer", "build", "Index", "Passage", "Answer", "LLMSettings", "BuildReport", "IndexMissing",
           "IndexDamaged"]
__version__ = "0.1.0"
