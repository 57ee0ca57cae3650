"""Stage 4, retrieve: a question -> ranked passages and a verdict.

``query`` (the question understood against an index: terms, bridges, places, years),
``retriever`` (the candidate and rescoring lists), ``fusion`` (rank lists in, one ranking
out), ``highlight`` (each passage's answering sentence), ``verdict`` (do the passages answer,
and if not, why), ``results`` (:class:`Passage` and :class:`Results`).

The package is ``qa.retrieve``, not ``qa.search``: ``qa.search()`` is the public function, and
a subpackage of that name would shadow it."""
