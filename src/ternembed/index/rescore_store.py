"""Separate rescoring vectors kept on disk (memory-mapped), as in sentence-transformers' recipe of a
binary index in RAM with int8 embeddings on disk for rescoring.

Rescoring from the index's own codes (the default) costs no extra space but binary codes rescore
coarsely; a store of int8 (``quantize_embeddings`` with calibrated ranges) or float32 vectors re-ranks
the candidates almost exactly, while only the candidates' rows are ever read from disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

RescoreFrom = Literal["codes", "int8", "float32"]
RESCORE_FROM: tuple[str, ...] = ("codes", "int8", "float32")
VECTORS_FILE = "rescore_vectors.npy"
RANGES_FILE = "rescore_ranges.npy"


class RescoreStore:
    """Rows of rescoring vectors by label, int8 (per-dimension ranges) or float32."""

    def __init__(
        self, precision: Literal["int8", "float32"], dimension: int, ranges: np.ndarray | None = None
    ) -> None:
        self.precision = precision
        self.dimension = int(dimension)
        self.ranges = ranges
        self._parts: list[np.ndarray] = []

    @property
    def bytes_per_vector(self) -> int:
        return self.dimension * (1 if self.precision == "int8" else 4)

    def append(self, vectors: np.ndarray) -> None:
        """Store rows for the next labels; int8 ranges are calibrated on the first rows appended."""
        if self.precision == "float32":
            self._parts.append(np.asarray(vectors, dtype=np.float32))
            return
        from sentence_transformers.util.quantization import quantize_embeddings

        if self.ranges is None:
            self.ranges = np.vstack((vectors.min(axis=0), vectors.max(axis=0))).astype(np.float32)
        self._parts.append(quantize_embeddings(vectors, precision="int8", ranges=self.ranges))

    def _matrix(self) -> np.ndarray:
        if len(self._parts) != 1:
            empty = np.zeros((0, self.dimension), dtype=np.int8 if self.precision == "int8" else np.float32)
            self._parts = [np.concatenate(self._parts) if self._parts else empty]
        return self._parts[0]

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts)

    def vectors(self, labels: np.ndarray) -> np.ndarray:
        """float32 rows for ``labels`` (int8 dequantized as sentence-transformers does)."""
        rows = np.asarray(self._matrix()[np.asarray(labels, dtype=np.int64)], dtype=np.float32)
        if self.precision == "float32":
            return rows
        steps = (self.ranges[1] - self.ranges[0]) / 255
        steps = np.where(steps == 0, 1, steps)
        return (rows + 128) * steps + self.ranges[0]

    def subset(self, labels: np.ndarray) -> RescoreStore:
        """A store holding only the rows of ``labels``, in that order (labels 0..n-1 of the new store)."""
        store = RescoreStore(self.precision, self.dimension, self.ranges)
        store._parts = [np.array(self._matrix()[np.asarray(labels, dtype=np.int64)])]
        return store

    def save(self, folder: Path) -> None:
        """Write the rows (and int8 ranges) into ``folder``."""
        np.save(folder / VECTORS_FILE, self._matrix())
        if self.precision == "int8":
            np.save(folder / RANGES_FILE, self.ranges)

    @classmethod
    def load(cls, folder: Path, precision: Literal["int8", "float32"], dimension: int) -> RescoreStore:
        """Open a saved store memory-mapped: rows are read from disk only when candidates need them."""
        ranges = np.load(folder / RANGES_FILE) if precision == "int8" else None
        store = cls(precision, dimension, ranges)
        store._parts = [np.load(folder / VECTORS_FILE, mmap_mode="r")]
        return store
