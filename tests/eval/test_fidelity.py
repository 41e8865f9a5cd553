"""Label-free fidelity metrics against hand-checkable cases."""

from __future__ import annotations

import numpy as np
import pytest

from ternembed.eval.fidelity import embedding_cosine, neighbour_overlap, top_k_neighbours


def test_identical_embeddings_are_perfectly_faithful():
    embeddings = np.random.default_rng(0).normal(size=(50, 8))
    assert np.allclose(embedding_cosine(embeddings, 3 * embeddings), 1.0)
    assert neighbour_overlap(embeddings, embeddings) == 1.0


def test_neighbours_exclude_self_and_overlap_works_across_widths():
    rng = np.random.default_rng(1)
    teacher = rng.normal(size=(40, 8))
    neighbours = top_k_neighbours(teacher, k=5)
    assert not (neighbours == np.arange(40)[:, None]).any()
    rotated = teacher @ np.linalg.qr(rng.normal(size=(8, 8)))[0]
    wider = np.concatenate([rotated, np.zeros((40, 4))], axis=1)
    assert neighbour_overlap(teacher, wider, k=5) == pytest.approx(1.0)
    assert neighbour_overlap(teacher, rng.normal(size=(40, 8)), k=5) < 0.5


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ in shape"):
        embedding_cosine(np.ones((3, 4)), np.ones((3, 5)))
