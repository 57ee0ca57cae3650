"""Stage 6, app: how people and programs reach the pipeline.

``api`` (``qa.search``, ``qa.build``, ``qa.answer``), ``cli`` (``bulletin-qa``), ``eval``
(the evaluation command), ``web`` (the question page)."""
