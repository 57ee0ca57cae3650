"""Ingest stage: what every reader shares: the error of a file that cannot be read, and the mark
of a paragraph's start that the cleaning reads (qa/ingest/read.py)."""

INDENT = "\u3000\u3000"  # marks the start of a paragraph for the cleaning


class IngestError(ValueError):
    """A file that cannot be read as text (binary, empty, undecodable)."""
