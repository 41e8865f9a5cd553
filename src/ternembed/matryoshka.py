"""Matryoshka truncation: keep the first N dimensions of an embedding and re-normalize it.

One rule, shared by ``ternembed index/embed --truncate-dim``, the ``matryoshka`` distillation loss and
the truncated-dimension benchmark. On a model whose similarity is cosine, sentence-transformers'
``truncate_dim`` cuts the pooled embedding before ``normalize_embeddings`` re-normalizes it, so
setting it on the model gives exactly "truncate, then re-normalize".
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ternembed.errors import TernembedError

DEFAULT_MATRYOSHKA_DIMS: tuple[int, ...] = (64, 128, 256)
"""Dimensions of the ``matryoshka`` loss term unless told otherwise (those below the model's own count)."""


class TruncateDimError(TernembedError, ValueError):
    """A truncation dimension is not between 1 and the model's embedding dimension."""


def check_truncate_dim(truncate_dim: int, dimension: int) -> int:
    """``truncate_dim`` unchanged when ``1 <= truncate_dim <= dimension``, else a TruncateDimError."""
    if not 1 <= truncate_dim <= dimension:
        raise TruncateDimError(
            f"--truncate-dim {truncate_dim} is outside 1..{dimension}: the model gives {dimension}-dimensional "
            "embeddings; choose a smaller value or leave it out"
        )
    return truncate_dim


def full_dimension(model: Any) -> int:
    """The model's embedding dimension before any truncation."""
    for method in ("_get_untruncated_embedding_dimension", "get_embedding_dimension",
                   "get_sentence_embedding_dimension"):  # fmt: skip
        if hasattr(model, method) and getattr(model, method)() is not None:
            return int(getattr(model, method)())
    raise TypeError(f"{type(model).__name__} does not report its embedding dimension")


def set_truncate_dim(model: Any, truncate_dim: int | None) -> Any:
    """Make ``model.encode`` keep the first ``truncate_dim`` dimensions (None: all); returns ``model``."""
    if truncate_dim is not None:
        check_truncate_dim(truncate_dim, full_dimension(model))
    model.truncate_dim = truncate_dim
    return model


def truncate_normalized(embeddings: torch.Tensor, dimension: int) -> torch.Tensor:
    """The first ``dimension`` columns of ``[batch, dim]`` embeddings, L2-normalized again (float32)."""
    return F.normalize(embeddings[..., :dimension].float(), dim=-1)


def usable_dims(dims: tuple[int, ...], dimension: int) -> tuple[int, ...]:
    """The dims strictly below ``dimension`` (the full embedding is scored by the other loss terms)."""
    return tuple(dim for dim in dims if dim < dimension)
