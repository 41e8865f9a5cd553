"""Chunk embedding and the stored vector column: float32, int8 (one scale) or packed sign bits.

:class:`ChunkEmbedder` is the one place texts become vectors; the local engine calls it directly and
the Ray engine runs it as a Ray Data actor, so both give the same vectors for the same chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ternembed.errors import InvalidArgumentError
from ternembed.index.precision import Precision, pack_binary

INT8_MAX = 127


@dataclass(frozen=True)
class EmbedSettings:
    """How vectors are made: model, truncation, encoding batch size and CPU threads per worker."""

    model: str
    truncate_dim: int | None = None
    batch_size: int = 32
    threads: int | None = None


class ChunkEmbedder:
    """Loads the model once, then turns batches ``{"row": ..., "text": ...}`` into ``{"row", "vector"}``.

    Called as a function (local engine) or constructed per actor by Ray Data's ``map_batches``.
    """

    def __init__(self, settings: EmbedSettings) -> None:
        import torch

        from ternembed.index.model_ref import load_model, model_similarity
        from ternembed.matryoshka import set_truncate_dim

        if settings.threads:
            torch.set_num_threads(settings.threads)
        self.settings = settings
        self.model = set_truncate_dim(load_model(settings.model), settings.truncate_dim)
        self.similarity = model_similarity(self.model)

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 ``[n, d]`` document embeddings (normalized for cosine models, after truncation)."""
        from ternembed.index.model_ref import encode_texts

        return encode_texts(self.model, texts, "document", self.settings.batch_size)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {"row": np.asarray(batch["row"]), "vector": self.embed([str(t) for t in batch["text"]])}


def int8_scale(vectors: np.ndarray) -> float:
    """One symmetric scale: the largest magnitude of ``vectors`` maps to 127."""
    largest = float(np.abs(vectors).max()) if vectors.size else 0.0
    return largest / INT8_MAX if largest > 0 else 1.0


def vector_array(vectors: np.ndarray, precision: Precision, scale: float | None = None):
    """A pyarrow fixed-size-list array of the vectors at ``precision``.

    ``float32``: the values; ``int8``: ``round(x / scale)`` clipped to +-127 (``x ~ code * scale``);
    ``binary``: sign bits packed 8 per byte (``uint8``, ``ceil(d / 8)`` per vector).
    """
    import pyarrow as pa

    if precision == "float32":
        codes, value_type = np.ascontiguousarray(vectors, dtype=np.float32), pa.float32()
    elif precision == "int8":
        if scale is None:
            raise InvalidArgumentError("int8 vectors need a scale")
        codes = np.clip(np.rint(vectors / scale), -INT8_MAX, INT8_MAX).astype(np.int8)
        value_type = pa.int8()
    else:
        codes, value_type = pack_binary(vectors), pa.uint8()
    width = codes.shape[1]
    return pa.FixedSizeListArray.from_arrays(pa.array(codes.reshape(-1), type=value_type), width)
