"""faiss backends: HNSW (graph), IVF (inverted lists) and flat (exact), each at three precisions.

float32 stores raw vectors with inner product; int8 uses faiss's per-dimension min/max scalar
quantizer (``QT_8bit``, the same calibration as sentence-transformers' ``quantize_embeddings``) and
scores the float query against decoded codes; binary uses faiss's binary indexes on packed sign bits
with Hamming distance, reported as the cosine of the sign vectors ``1 - 2 * hamming / d``.
"""

from __future__ import annotations

import math
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
from ternembed.index.errors import IndexFormatError, UnsupportedOperationError
from ternembed.index.precision import Precision, check_precision, pack_binary, unpack_binary
from ternembed.index.storage import REBUILD

SQ_TRAIN_SIZE = 10_000
"""Vectors used to calibrate the int8 per-dimension ranges."""
IVF_TRAIN_POINTS_PER_LIST = 50
"""Training vectors per IVF list (faiss warns below 39)."""


def _faiss():
    import faiss

    return faiss


def _labels(labels: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(labels, dtype=np.int64).reshape(-1))


class _FaissBackend:
    """Shared plumbing: precision handling, search, reconstruct, remove, save and load."""

    name: ClassVar[str]
    file_name: ClassVar[str] = "index.faiss"
    supports_remove: ClassVar[bool] = True
    search_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, dimension: int, precision: Precision = "float32", index: Any = None) -> None:
        self.dimension = int(dimension)
        self.precision = check_precision(precision)
        self.index = index if index is not None else self._new_index()

    def _new_index(self) -> Any:
        raise NotImplementedError

    @property
    def _binary(self) -> bool:
        return self.precision == "binary"

    def _encode(self, vectors: np.ndarray) -> np.ndarray:
        return pack_binary(vectors) if self._binary else vectors

    @property
    def train_size(self) -> int:
        return 0 if self.index.is_trained else self._train_size()

    def _train_size(self) -> int:
        return SQ_TRAIN_SIZE

    def train(self, vectors: np.ndarray) -> None:
        if not self.index.is_trained:
            self.index.train(self._encode(check_vectors(vectors, self.dimension)))

    def add(self, labels: np.ndarray, vectors: np.ndarray) -> None:
        vectors = check_vectors(vectors, self.dimension)
        labels = _labels(labels)
        if len(labels) != len(vectors):
            raise InvalidArgumentError(f"got {len(labels)} labels for {len(vectors)} vectors")
        self.train(vectors)
        self.index.add_with_ids(self._encode(vectors), labels)

    def remove(self, labels: np.ndarray) -> None:
        labels = _labels(labels)
        selector = _faiss().IDSelectorArray(len(labels), _faiss().swig_ptr(labels))
        self.index.remove_ids(selector)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = check_vectors(queries, self.dimension, "queries")
        distances, labels = self.index.search(self._encode(queries), int(k), **self._search_options(int(k)))
        if self._binary:
            scores = 1.0 - 2.0 * distances.astype(np.float32) / self.dimension
        else:
            scores = distances.astype(np.float32)
        scores[labels < 0] = -np.inf
        return labels.astype(np.int64), scores

    def _search_options(self, k: int) -> dict[str, Any]:
        """Extra keyword arguments of faiss's ``search`` for a query of ``k`` results."""
        return {}

    def reconstruct(self, labels: np.ndarray) -> np.ndarray:
        labels = _labels(labels)
        if not self._binary:
            return self.index.reconstruct_batch(labels).astype(np.float32)
        codes = np.empty((len(labels), self.index.code_size), dtype=np.uint8)
        for row, label in enumerate(labels):
            codes[row] = self.index.reconstruct(int(label))
        return unpack_binary(codes, self.dimension)

    def get_params(self) -> dict[str, Any]:
        return {}

    def set_params(self, **params: Any) -> None:
        check_params(params, self.search_params, self.name)

    def build_config(self) -> dict[str, Any]:
        return {}

    def save(self, path: Path) -> None:
        faiss = _faiss()
        writer = faiss.write_index_binary if self._binary else faiss.write_index
        writer(self.index, str(path))

    @classmethod
    def load(cls, path: Path, dimension: int, precision: Precision, config: dict[str, Any]) -> _FaissBackend:
        """Read a backend saved by :meth:`save`; ``config`` is what :meth:`build_config` returned.

        A missing, truncated or foreign file, or one holding another kind of index, is an
        IndexFormatError naming it (faiss's own errors would be a C++ message, or a bad_alloc).
        """
        faiss = _faiss()
        binary = precision == "binary"
        check_index_file(path)
        reader = faiss.read_index_binary if binary else faiss.read_index
        try:
            index = reader(str(path))
        except (RuntimeError, MemoryError) as error:
            raise damaged(path, str(error).strip().splitlines()[-1][:200]) from None
        expected = cls._index_types(faiss, binary)
        if not isinstance(index, expected) or int(index.d) != int(dimension):
            raise damaged(path, f"it holds a {type(index).__name__} of dimension {index.d}, not a {cls.name} "
                          f"{precision} index of dimension {dimension}")  # fmt: skip
        backend = cls.__new__(cls)
        backend.dimension, backend.precision, backend.index = int(dimension), precision, index
        try:
            backend._restore(config)
        except (KeyError, TypeError, ValueError) as error:
            raise IndexFormatError(f"build_params {config!r} of {path} are damaged ({error}); {REBUILD}") from None
        return backend

    @staticmethod
    def _index_types(faiss: Any, binary: bool) -> tuple[type, ...]:
        """faiss classes a saved file of this backend may hold."""
        raise NotImplementedError

    def _restore(self, config: dict[str, Any]) -> None:
        """Set attributes a loaded backend keeps beside the faiss object."""

    @property
    def index_bytes(self) -> int:
        faiss = _faiss()
        serialize = faiss.serialize_index_binary if self._binary else faiss.serialize_index
        return int(serialize(self.index).nbytes)

    def __len__(self) -> int:
        return int(self.index.ntotal)


class FaissHNSW(_FaissBackend):
    """faiss HNSW graph (``IndexHNSWFlat``, ``IndexHNSWSQ``, ``IndexBinaryHNSW``).

    Labels are graph positions, so they must be added in order 0, 1, 2, ...; faiss HNSW cannot delete
    (rebuild, or use faiss-ivf, faiss-flat or usearch when documents must be removed).
    """

    name = "faiss-hnsw"
    supports_remove = False
    search_params = ("ef_search",)

    def __init__(
        self,
        dimension: int,
        precision: Precision = "float32",
        m: int = HNSW_M,
        ef_construction: int = HNSW_EF_CONSTRUCTION,
        ef_search: int = HNSW_EF_SEARCH,
    ) -> None:
        self.m = check_count("m", m, minimum=2)
        self.ef_construction = check_count("ef_construction", ef_construction)
        super().__init__(dimension, precision)
        self.set_params(ef_search=ef_search)

    def _new_index(self) -> Any:
        faiss = _faiss()
        if self.precision == "float32":
            index = faiss.IndexHNSWFlat(self.dimension, self.m, faiss.METRIC_INNER_PRODUCT)
        elif self.precision == "int8":
            index = faiss.IndexHNSWSQ(
                self.dimension, faiss.ScalarQuantizer.QT_8bit, self.m, faiss.METRIC_INNER_PRODUCT
            )
        else:
            index = faiss.IndexBinaryHNSW(self.dimension, self.m)
        index.hnsw.efConstruction = self.ef_construction
        return index

    def _restore(self, config: dict[str, Any]) -> None:
        self.m, self.ef_construction = int(config["m"]), int(config["ef_construction"])

    @staticmethod
    def _index_types(faiss: Any, binary: bool) -> tuple[type, ...]:
        return (faiss.IndexBinaryHNSW,) if binary else (faiss.IndexHNSW,)

    def add(self, labels: np.ndarray, vectors: np.ndarray) -> None:
        vectors = check_vectors(vectors, self.dimension)
        labels = _labels(labels)
        expected = np.arange(len(self), len(self) + len(vectors), dtype=np.int64)
        if not np.array_equal(labels, expected):
            raise InvalidArgumentError(
                "faiss-hnsw labels are graph positions: add labels ntotal, ntotal+1, ... in order"
            )
        self.train(vectors)
        self.index.add(self._encode(vectors))

    def remove(self, labels: np.ndarray) -> None:
        raise UnsupportedOperationError(
            "faiss HNSW graphs cannot delete vectors; rebuild the index without those documents, "
            "or build with --backend usearch, faiss-ivf or faiss-flat, which support deletion"
        )

    def _search_options(self, k: int) -> dict[str, Any]:
        """A beam of at least ``k``: with efSearch below k, faiss returns fewer than k results.

        Passed per call (SearchParametersHNSW), so concurrent searches never see each other's setting.
        """
        if k <= self.index.hnsw.efSearch:
            return {}
        params = _faiss().SearchParametersHNSW()
        params.efSearch = k
        return {"params": params}

    def get_params(self) -> dict[str, Any]:
        return {"ef_search": int(self.index.hnsw.efSearch)}

    def set_params(self, **params: Any) -> None:
        super().set_params(**params)
        if "ef_search" in params:
            self.index.hnsw.efSearch = int(params["ef_search"])

    def build_config(self) -> dict[str, Any]:
        return {"m": self.m, "ef_construction": self.ef_construction}


class FaissIVF(_FaissBackend):
    """faiss inverted lists (``IndexIVFFlat``, ``IndexIVFScalarQuantizer``, ``IndexBinaryIVF``).

    Needs training (k-means on ``IVF_TRAIN_POINTS_PER_LIST * nlist`` vectors). Deletion is supported;
    a hashtable direct map keeps stored vectors reachable by label for rescoring.
    """

    name = "faiss-ivf"
    search_params = ("nprobe",)

    def __init__(
        self,
        dimension: int,
        precision: Precision = "float32",
        nlist: int | None = None,
        expected_count: int | None = None,
        nprobe: int = 16,
    ) -> None:
        self.nlist = check_count("nlist", nlist) if nlist is not None else default_nlist(expected_count)
        super().__init__(dimension, precision)
        self.set_params(nprobe=nprobe)

    def _new_index(self) -> Any:
        faiss = _faiss()
        if self.precision == "binary":
            self._quantizer = faiss.IndexBinaryFlat(self.dimension)
            index = faiss.IndexBinaryIVF(self._quantizer, self.dimension, self.nlist)
        else:
            self._quantizer = faiss.IndexFlatIP(self.dimension)
            if self.precision == "float32":
                index = faiss.IndexIVFFlat(
                    self._quantizer, self.dimension, self.nlist, faiss.METRIC_INNER_PRODUCT
                )
            else:
                index = faiss.IndexIVFScalarQuantizer(
                    self._quantizer,
                    self.dimension,
                    self.nlist,
                    faiss.ScalarQuantizer.QT_8bit,
                    faiss.METRIC_INNER_PRODUCT,
                )
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        return index

    def _train_size(self) -> int:
        return IVF_TRAIN_POINTS_PER_LIST * self.nlist

    def train(self, vectors: np.ndarray) -> None:
        if not self.index.is_trained and len(vectors) < self.nlist:
            raise InvalidArgumentError(
                f"faiss-ivf with nlist={self.nlist} needs at least {self.nlist} vectors to train, got "
                f"{len(vectors)}; add more documents at once or choose a smaller nlist"
            )
        super().train(vectors)

    def _restore(self, config: dict[str, Any]) -> None:
        self.nlist = int(config["nlist"])

    @staticmethod
    def _index_types(faiss: Any, binary: bool) -> tuple[type, ...]:
        return (faiss.IndexBinaryIVF,) if binary else (faiss.IndexIVF,)

    def get_params(self) -> dict[str, Any]:
        return {"nprobe": int(self.index.nprobe)}

    def set_params(self, **params: Any) -> None:
        super().set_params(**params)
        if "nprobe" in params:
            self.index.nprobe = max(1, min(int(params["nprobe"]), self.nlist))

    def build_config(self) -> dict[str, Any]:
        return {"nlist": self.nlist}


def default_nlist(expected_count: int | None) -> int:
    """IVF list count for about ``expected_count`` vectors: 4 sqrt(n), with >= 39 points per list."""
    if not expected_count:
        return 100
    return max(1, min(int(4 * math.sqrt(expected_count)), expected_count // 39))


class FaissFlat(_FaissBackend):
    """Exact brute-force search (``IndexFlatIP``, ``IndexScalarQuantizer``, ``IndexBinaryFlat``) behind
    an ID map, so labels are free and deletion is supported."""

    name = "faiss-flat"

    def __init__(self, dimension: int, precision: Precision = "float32") -> None:
        super().__init__(dimension, precision)

    def _new_index(self) -> Any:
        faiss = _faiss()
        if self.precision == "float32":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))
        if self.precision == "int8":
            inner = faiss.IndexScalarQuantizer(
                self.dimension, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
            return faiss.IndexIDMap2(inner)
        return faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(self.dimension))

    @staticmethod
    def _index_types(faiss: Any, binary: bool) -> tuple[type, ...]:
        return (faiss.IndexBinaryIDMap2,) if binary else (faiss.IndexIDMap2,)
