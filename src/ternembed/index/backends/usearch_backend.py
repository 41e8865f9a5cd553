"""usearch HNSW backend: ``f32``/``i8`` vectors with inner product, ``b1`` sign bits with Hamming.

usearch's ``i8`` normalizes each vector and stores ``trunc(127 * x)``: it keeps directions only, so it
fits cosine-similarity models (``SearchIndex`` refuses it for dot-product models), and it is coarser than
faiss's per-dimension int8 ranges. usearch deletes natively (``remove``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ternembed.errors import InvalidArgumentError
from ternembed.index.backends.base import (
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    check_count,
    check_index_file,
    check_params,
    check_vectors,
    damaged,
)
from ternembed.index.errors import IndexFormatError
from ternembed.index.precision import Precision, check_precision, pack_binary, unpack_binary
from ternembed.index.storage import REBUILD

_INT8_LEVELS = 127.0
_DTYPES = {"float32": "f32", "int8": "i8", "binary": "b1"}


class USearchHNSW:
    """usearch's HNSW index; labels are usearch keys."""

    name: ClassVar[str] = "usearch"
    file_name: ClassVar[str] = "index.usearch"
    supports_remove: ClassVar[bool] = True
    search_params: ClassVar[tuple[str, ...]] = ("ef_search",)

    def __init__(
        self,
        dimension: int,
        precision: Precision = "float32",
        m: int = HNSW_M,
        ef_construction: int = HNSW_EF_CONSTRUCTION,
        ef_search: int = HNSW_EF_SEARCH,
    ) -> None:
        from usearch.index import Index

        self.dimension, self.precision = int(dimension), check_precision(precision)
        self.m = check_count("m", m, minimum=2)
        self.ef_construction = check_count("ef_construction", ef_construction)
        metric = "hamming" if precision == "binary" else "ip"
        self.index = Index(
            ndim=self.dimension,
            metric=metric,
            dtype=_DTYPES[precision],
            connectivity=self.m,
            expansion_add=self.ef_construction,
            expansion_search=check_count("ef_search", ef_search),
        )

    @property
    def train_size(self) -> int:
        return 0

    def train(self, vectors: np.ndarray) -> None:
        """usearch learns nothing from data."""

    def _encode(self, vectors: np.ndarray) -> np.ndarray:
        return pack_binary(vectors) if self.precision == "binary" else vectors

    def add(self, labels: np.ndarray, vectors: np.ndarray) -> None:
        vectors = check_vectors(vectors, self.dimension)
        labels = np.asarray(labels, dtype=np.uint64).reshape(-1)
        if len(labels) != len(vectors):
            raise InvalidArgumentError(f"got {len(labels)} labels for {len(vectors)} vectors")
        self.index.add(labels, self._encode(vectors))

    def remove(self, labels: np.ndarray) -> None:
        self.index.remove(np.asarray(labels, dtype=np.uint64).reshape(-1))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = check_vectors(queries, self.dimension, "queries")
        matches = self.index.search(self._encode(queries), int(k))
        keys = np.atleast_2d(matches.keys).astype(np.int64)
        distances = np.atleast_2d(matches.distances).astype(np.float32)
        counts = np.reshape(getattr(matches, "counts", keys.shape[1]), (-1, 1))
        valid = np.arange(keys.shape[1]) < counts
        if self.precision == "binary":
            scores = 1.0 - 2.0 * distances / self.dimension
        elif self.precision == "int8":
            scores = (1.0 - distances) / _INT8_LEVELS**2
        else:
            scores = 1.0 - distances
        keys[~valid], scores[~valid] = -1, -np.inf
        return keys, scores

    def reconstruct(self, labels: np.ndarray) -> np.ndarray:
        labels = np.asarray(labels, dtype=np.uint64).reshape(-1)
        if len(labels) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        stored = np.stack(self.index.get(labels))
        if self.precision == "binary":
            return unpack_binary(stored.astype(np.uint8), self.dimension)
        if self.precision == "int8":
            return stored.astype(np.float32) / _INT8_LEVELS
        return stored.astype(np.float32)

    def get_params(self) -> dict[str, Any]:
        return {"ef_search": int(self.index.expansion_search)}

    def set_params(self, **params: Any) -> None:
        check_params(params, self.search_params, self.name)
        if "ef_search" in params:
            self.index.expansion_search = int(params["ef_search"])

    def build_config(self) -> dict[str, Any]:
        return {"m": self.m, "ef_construction": self.ef_construction}

    def save(self, path: Path) -> None:
        self.index.save(str(path))

    @classmethod
    def load(cls, path: Path, dimension: int, precision: Precision, config: dict[str, Any]) -> USearchHNSW:
        """Read a backend saved by :meth:`save`; ``config`` is what :meth:`build_config` returned.

        A missing, truncated or foreign file, or one of another dimension or precision, is an
        IndexFormatError naming it. usearch itself checks little beyond the header: a file damaged
        inside its graph may crash the process at search, which the sha256 that
        ``SearchIndex.load`` checks first prevents.
        """
        from usearch.index import Index

        check_index_file(path)
        try:
            metadata = Index.metadata(str(path))
        except (RuntimeError, ValueError, MemoryError) as error:
            raise damaged(path, str(error)[:200]) from None
        if metadata is None:
            raise damaged(path, "it does not start with a usearch index header")
        scalar = str(getattr(metadata.get("kind_scalar"), "name", "")).lower()
        if int(metadata.get("dimensions", -1)) != int(dimension) or scalar != _DTYPES[precision]:
            raise damaged(path, f"it holds {metadata.get('dimensions')}-d {scalar or 'unknown'} vectors, not "
                          f"{dimension}-d {_DTYPES[precision]}")  # fmt: skip
        try:
            backend = cls(dimension, precision, **config)
        except (TypeError, ValueError) as error:
            raise IndexFormatError(f"build_params {config!r} of {path} are damaged ({error}); {REBUILD}") from None
        try:
            backend.index = Index.restore(str(path))
        except (RuntimeError, ValueError, MemoryError) as error:
            raise damaged(path, str(error)[:200]) from None
        if backend.index is None:
            raise damaged(path, "usearch cannot restore it")
        return backend

    @property
    def index_bytes(self) -> int:
        return int(self.index.serialized_length)

    def __len__(self) -> int:
        return len(self.index)
