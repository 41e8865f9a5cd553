"""The one small protocol every ANN backend implements, on integer labels and float vectors.

Backends take float32 vectors and store them at their precision themselves (faiss scalar quantizer,
usearch ``i8``, packed sign bits), so callers never handle codes. Labels are int64; mapping them to
document ids is :class:`ternembed.index.SearchIndex`'s job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from ternembed.errors import InvalidArgumentError
from ternembed.index.errors import IndexFormatError
from ternembed.index.precision import Precision
from ternembed.index.storage import REBUILD

HNSW_M = 32
"""Neighbours per HNSW node (faiss ``M``, usearch ``connectivity``)."""
HNSW_EF_CONSTRUCTION = 200
"""HNSW build beam width. 200 (hnswlib's default) rather than 80: on wordnet-retrieval's 20k glosses
the graph then reaches exact search's nDCG@10 at efSearch 256 (k-NN recall 0.9995 vs 0.9966), for a
build ~2.6x slower that is still small next to encoding the corpus."""
HNSW_EF_SEARCH = 64
"""HNSW search beam width; raise it per query for recall, lower it for speed."""


class VectorBackend(Protocol):
    """An ANN index over labelled vectors: train, add, remove, search, reconstruct, save and load."""

    name: ClassVar[str]
    file_name: ClassVar[str]
    supports_remove: ClassVar[bool]
    dimension: int
    precision: Precision

    @property
    def train_size(self) -> int:
        """How many vectors the backend wants before its first add; 0 when it needs no training."""

    def train(self, vectors: np.ndarray) -> None:
        """Fit what the backend learns from data (IVF centroids, int8 ranges); no-op otherwise."""

    def add(self, labels: np.ndarray, vectors: np.ndarray) -> None:
        """Store float32 ``vectors [n, d]`` under int64 ``labels [n]``."""

    def remove(self, labels: np.ndarray) -> None:
        """Delete ``labels``; raises UnsupportedOperationError where the structure cannot delete."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(labels int64 [nq, k], scores float32 [nq, k])``, best first, label -1 where fewer than k."""

    def reconstruct(self, labels: np.ndarray) -> np.ndarray:
        """Stored vectors decoded to float32 ``[n, d]`` (int8 dequantized, binary as +-1/sqrt(d))."""

    def get_params(self) -> dict[str, Any]:
        """Search-time parameters (``ef_search``, ``nprobe``)."""

    def set_params(self, **params: Any) -> None:
        """Change search-time parameters; unknown names raise ValueError."""

    def build_config(self) -> dict[str, Any]:
        """Constructor arguments and calibration needed to rebuild an empty twin; saved as JSON."""

    def save(self, path: Path) -> None:
        """Write the index structure to one file."""

    @property
    def index_bytes(self) -> int:
        """Size of the serialized index structure (codes + graph/lists + ids), in bytes."""

    def __len__(self) -> int:
        """Number of stored vectors."""


def check_vectors(vectors: np.ndarray, dimension: int, what: str = "vectors") -> np.ndarray:
    """``vectors`` as a C-contiguous float32 ``[n, dimension]`` array, or a clear ValueError."""
    from ternembed.index.errors import IndexMismatchError

    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise InvalidArgumentError(f"{what} must be a 2-D array [n, dimension]; got shape {array.shape}")
    if array.shape[1] != dimension:
        raise IndexMismatchError(
            f"{what} have dimension {array.shape[1]} but the index holds dimension {dimension}; "
            "use the model the index was built with"
        )
    return np.ascontiguousarray(array)


def check_params(params: dict[str, Any], allowed: tuple[str, ...], backend: str) -> None:
    """ValueError naming the first parameter ``backend`` does not know, or one that is not a positive whole number."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InvalidArgumentError(
            f"backend {backend!r} has no parameter {unknown[0]!r}; its parameters are {', '.join(allowed)}"
        )
    for name, value in params.items():
        check_count(name, value)


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int, or ValueError naming ``name`` when it is not a whole number >= ``minimum``.

    Index structures misbehave on such values rather than refusing them: faiss aborts the process on
    an HNSW graph with ``m`` 0 or 1 and returns -1 labels at ``ef_search`` 0.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidArgumentError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def check_index_file(path: Path) -> None:
    """IndexFormatError when the index structure file ``path`` is missing or empty."""
    if not path.is_file():
        raise IndexFormatError(f"{path} is missing from the index folder; {REBUILD}")
    if path.stat().st_size == 0:
        raise damaged(path, "it is empty")


def damaged(path: Path, why: str) -> IndexFormatError:
    """The error for an index structure file that cannot be used."""
    return IndexFormatError(f"{path} is damaged and cannot be read ({why}); {REBUILD}")
