"""Errors of the index package: each names what was wrong, the value seen and what to do."""

from __future__ import annotations

from ternembed.data.records import RecordsError
from ternembed.errors import TernembedError

CorpusError = RecordsError
"""A corpus is empty, unreadable at some line or row, or has missing or duplicate ids or texts."""


class IndexMismatchError(TernembedError, ValueError):
    """An index is used with a model or vectors of another dimension or another model."""


class IndexFormatError(TernembedError, ValueError):
    """A folder is not a ternembed index, or was written by an incompatible version."""


class UnsupportedOperationError(TernembedError, ValueError):
    """The backend cannot do what was asked (e.g. delete from a faiss HNSW graph)."""
