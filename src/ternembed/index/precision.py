"""Output-embedding precisions: how many bytes one stored vector takes, and binary packing.

``int8`` and ``binary`` follow sentence-transformers' ``quantize_embeddings``: int8 keeps one byte per
dimension (calibrated ranges), binary keeps the sign bit of each dimension packed 8 per byte.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from ternembed.errors import InvalidArgumentError

Precision = Literal["float32", "int8", "binary"]
PRECISIONS: tuple[str, ...] = get_args(Precision)


def check_precision(precision: str) -> Precision:
    """``precision`` unchanged when it is a known precision, else a ValueError listing the choices."""
    if precision not in PRECISIONS:
        raise InvalidArgumentError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return precision  # type: ignore[return-value]


def code_bytes_per_vector(precision: Precision, dimension: int) -> int:
    """Bytes of one stored embedding code, without any index structure around it."""
    if precision == "float32":
        return 4 * dimension
    if precision == "int8":
        return dimension
    return (dimension + 7) // 8


def pack_binary(vectors: np.ndarray) -> np.ndarray:
    """Sign bits of float vectors packed 8 per byte (``uint8 [n, ceil(d/8)]``), as ``ubinary``."""
    return np.packbits(vectors > 0, axis=-1)


def unpack_binary(codes: np.ndarray, dimension: int) -> np.ndarray:
    """Packed sign bits back to unit-norm float vectors of +-1/sqrt(d) for rescoring.

    A float query's dot product with these ranks candidates exactly as sentence-transformers' rescoring
    with 0/1 bits does (the two differ by a per-query constant) and stays on a cosine-like scale.
    """
    bits = np.unpackbits(codes, axis=-1, count=dimension).astype(np.float32)
    return (2.0 * bits - 1.0) / np.sqrt(dimension, dtype=np.float32)
