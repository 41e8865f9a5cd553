"""Errors of the index package: each names what was wrong, the value seen and what to do."""

from __future__ import annotations


class CorpusError(ValueError):
    """A corpus file is empty, unreadable at some line, or has missing or duplicate ids or texts."""


class IndexMismatchError(ValueError):
    """An index is used with a model or vectors of another dimension or another model."""


class IndexFormatError(ValueError):
    """A folder is not a ternembed index, or was written by an incompatible version."""


class UnsupportedOperationError(ValueError):
    """The backend cannot do what was asked (e.g. delete from a faiss HNSW graph)."""
