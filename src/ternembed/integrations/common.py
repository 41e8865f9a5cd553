"""Small shared pieces of the database integrations: batching, lazy imports, encoding with a model."""

from __future__ import annotations

import importlib
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from types import ModuleType
from typing import Literal, TypeVar

import numpy as np

from ternembed.errors import InvalidArgumentError, TernembedError

Item = TypeVar("Item")
INSTALL_HINT = "pip install ternembed[integrations]"


class IntegrationUnavailableError(TernembedError, ImportError):
    """The database package an integration needs is not installed."""


class CollectionExistsError(TernembedError, ValueError):
    """A collection or table of that name already exists and overwriting was not asked for."""


def require(module: str, package: str) -> ModuleType:
    """Import ``module`` or raise IntegrationUnavailableError naming the package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise IntegrationUnavailableError(
            f"this needs the {package!r} package, which is not installed ({error}); "
            f"install it with `pip install {package}` or `{INSTALL_HINT}`"
        ) from error


def batched(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """Consecutive lists of ``size`` items (the last may be shorter); streams, never materializes all."""
    if size < 1:
        raise InvalidArgumentError(f"batch size must be at least 1, got {size}")
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class TextEncoder:
    """A loaded model and how to embed documents and queries with it (normalized float32 for cosine
    models, with the model's query/document prompts)."""

    def __init__(self, model, name_or_path: str | None = None, batch_size: int = 32) -> None:
        from ternembed.index.model_ref import model_similarity

        self.model = model
        self.name_or_path = name_or_path
        self.batch_size = batch_size
        self.similarity = model_similarity(model)
        self.dimension = _embedding_dimension(model)

    def encode(self, texts: Sequence[str], kind: Literal["query", "document"] = "document") -> np.ndarray:
        """float32 ``[len(texts), dimension]`` embeddings; an empty input gives ``(0, dimension)``."""
        from ternembed.index.model_ref import encode_texts

        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return encode_texts(self.model, list(texts), kind, self.batch_size)


def _embedding_dimension(model) -> int:
    method = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(method())


def encoder_for(model, batch_size: int = 32) -> TextEncoder:
    """A TextEncoder for a loaded model, or for a model name/folder (loaded once per process)."""
    if isinstance(model, TextEncoder):
        return model
    if isinstance(model, (str, os.PathLike)):
        name = portable_name(model)
        return TextEncoder(_load_model(name), name, batch_size)
    return TextEncoder(model, None, batch_size)


def portable_name(name_or_path: str | os.PathLike) -> str:
    """Absolute path of an existing local folder (so a stored config works from any directory), else
    the name unchanged."""
    path = os.path.expanduser(os.fspath(name_or_path))
    return os.path.abspath(path) if os.path.exists(path) else os.fspath(name_or_path)


@lru_cache(maxsize=4)
def _load_model(name_or_path: str):
    from ternembed.index.model_ref import load_model

    return load_model(name_or_path)
