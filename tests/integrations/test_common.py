"""Shared helpers: batching, lazy imports with install hints, the encoder wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from ternembed.integrations.common import IntegrationUnavailableError, batched, encoder_for, require


def test_batched_streams_in_order_with_a_short_tail():
    assert list(batched(iter(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []
    with pytest.raises(ValueError, match="at least 1"):
        list(batched([1], 0))


def test_require_names_the_package_to_install():
    with pytest.raises(
        IntegrationUnavailableError, match=r"pip install no-such-db.*ternembed\[integrations\]"
    ):
        require("no_such_db_module", "no-such-db")


def test_encoder_matches_the_model_and_caches_folders(tiny_ternary_dir):
    import ternembed

    encoder = encoder_for(tiny_ternary_dir)
    assert encoder_for(tiny_ternary_dir).model is encoder.model  # loaded once per process
    texts = ["cats and kittens", "stock markets"]
    expected = ternembed.load(tiny_ternary_dir).encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(encoder.encode(texts), expected, atol=1e-5)
    assert encoder.encode([]).shape == (0, encoder.dimension) and encoder.dimension == 32
