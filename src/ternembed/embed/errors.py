"""Errors of ``ternembed embed``: each names what was wrong, the value seen and what to do."""

from __future__ import annotations


class EmbedInputError(ValueError):
    """A corpus cannot be read: unknown format, missing field, bad id or text, duplicate id, empty."""


class EmbedOutputError(ValueError):
    """The output exists, an interrupted run's parts do not match, or a vectors file is unusable."""
