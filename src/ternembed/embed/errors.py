"""Errors of ``ternembed embed``: each names what was wrong, the value seen and what to do.

Problems with the corpus itself raise :class:`ternembed.data.records.RecordsError`.
"""

from __future__ import annotations

from ternembed.errors import TernembedError


class EmbedOutputError(TernembedError, ValueError):
    """The output exists, or an interrupted run's parts are missing or were made with other settings."""
