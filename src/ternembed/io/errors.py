"""Errors raised while saving or loading a ternembed folder; each message says what to do."""

from __future__ import annotations

from ternembed.errors import TernembedError


class ModelFolderNotFoundError(TernembedError, FileNotFoundError):
    """The folder to load does not exist."""


class FolderNotEmptyError(TernembedError, FileExistsError):
    """The folder to save into already holds files and ``overwrite`` was not set."""


class NotATernaryModelError(TernembedError, ValueError):
    """The folder exists but is not a ternembed model (e.g. a plain Hugging Face folder)."""


class CorruptCheckpointError(TernembedError, ValueError):
    """A weight or config file cannot be read: truncated, corrupt or not the expected format."""


class ManifestMismatchError(TernembedError, ValueError):
    """``ternary_config.json`` and the tensors in ``model.safetensors`` disagree."""


class UnsupportedArchitectureError(TernembedError, ValueError):
    """The model is not a plain Hugging Face encoder that ternembed can rebuild."""
