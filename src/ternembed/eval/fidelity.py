"""Label-free fidelity of a student to its teacher: embedding cosine and top-k neighbour overlap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ternembed.errors import InvalidArgumentError

TOP_K = 10


def _normalized(embeddings: np.ndarray) -> np.ndarray:
    embeddings = np.asarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    return embeddings / np.maximum(norms, 1e-12)


def embedding_cosine(teacher: np.ndarray, student: np.ndarray) -> np.ndarray:
    """Per-row cosine between teacher and student embeddings of the same inputs.

    Raises:
        ValueError: Shapes differ (a student of another width has no per-row cosine).
    """
    if np.shape(teacher) != np.shape(student):
        raise InvalidArgumentError(
            f"teacher embeddings {np.shape(teacher)} and student embeddings {np.shape(student)} differ in shape"
        )
    return np.sum(_normalized(teacher) * _normalized(student), axis=1)


def top_k_neighbours(embeddings: np.ndarray, k: int = TOP_K, chunk: int = 1024) -> np.ndarray:
    """Indices ``[n, k]`` of each row's ``k`` nearest other rows by cosine (itself excluded), exact search."""
    normalized = _normalized(embeddings)
    n = len(normalized)
    if n <= k:
        raise InvalidArgumentError(f"need more than k={k} texts for neighbour overlap, got {n}")
    neighbours = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, chunk):
        similarity = normalized[start : start + chunk] @ normalized.T
        rows = np.arange(similarity.shape[0])
        similarity[rows, start + rows] = -np.inf
        top = np.argpartition(-similarity, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1, kind="stable")
        neighbours[start : start + chunk] = np.take_along_axis(top, order, axis=1)
    return neighbours


def neighbour_overlap(teacher: np.ndarray, student: np.ndarray, k: int = TOP_K) -> float:
    """Mean fraction of each text's top-``k`` neighbours (teacher space) kept in student space.

    Works across embedding widths: only the rankings inside each model's own space are compared.
    """
    if len(teacher) != len(student):
        raise InvalidArgumentError(f"teacher has {len(teacher)} embeddings but student has {len(student)}")
    teacher_top, student_top = top_k_neighbours(teacher, k), top_k_neighbours(student, k)
    kept = [len(set(t) & set(s)) for t, s in zip(teacher_top.tolist(), student_top.tolist(), strict=True)]
    return float(np.mean(kept)) / k


def fidelity(
    teacher_model: Any, student_model: Any, texts: Sequence[Any], batch_size: int = 32
) -> dict[str, float | int]:
    """Encode ``texts`` with both models; mean and 5th-percentile cosine, and top-10 neighbour overlap.

    The cosine entries are left out when the two models' embedding widths differ.
    """
    teacher = np.asarray(teacher_model.encode(list(texts), batch_size=batch_size), dtype=np.float32)
    student = np.asarray(student_model.encode(list(texts), batch_size=batch_size), dtype=np.float32)
    scores: dict[str, float | int] = {
        "num_texts": len(texts),
        f"neighbour_overlap_at_{TOP_K}": neighbour_overlap(teacher, student),
    }
    if teacher.shape == student.shape:
        cosine = embedding_cosine(teacher, student)
        scores["cosine_mean"] = float(cosine.mean())
        scores["cosine_p05"] = float(np.percentile(cosine, 5))
    return scores
