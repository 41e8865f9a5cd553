"""Chroma with a ternembed embedding function, on a real persistent client."""

from __future__ import annotations

import numpy as np
import pytest

from ternembed.integrations import chroma
from tests.integrations.conftest import DOCUMENTS


@pytest.fixture
def client(tmp_path):
    return chroma.persistent_client(tmp_path / "chroma")


def _fill(client, model_dir):
    function = chroma.TernembedEmbeddingFunction(model_dir)
    collection = client.create_collection("notes", embedding_function=function)
    collection.add(
        ids=[doc["id"] for doc in DOCUMENTS],
        documents=[doc["text"] for doc in DOCUMENTS],
        metadatas=[{"topic": doc["topic"], "number": i} for i, doc in enumerate(DOCUMENTS)],
    )
    return collection


def test_add_with_metadata_query_and_where_filter(client, tiny_ternary_dir):
    collection = _fill(client, tiny_ternary_dir)
    assert collection.count() == 40
    hits = collection.query(query_texts=["mountain hiking note number 7"], n_results=3)
    assert hits["ids"][0][0] == "d7" and hits["metadatas"][0][0]["topic"] == "mountain hiking"
    filtered = collection.query(
        query_texts=["mountain hiking note number 7"], n_results=5, where={"topic": "baking bread"}
    )
    assert len(filtered["ids"][0]) == 5
    assert {meta["topic"] for meta in filtered["metadatas"][0]} == {"baking bread"}
    ranged = collection.get(where={"$and": [{"topic": "stock markets"}, {"number": {"$lt": 10}}]})
    assert sorted(ranged["ids"]) == ["d1", "d6"]


def test_cosine_space_and_reopening_rebuilds_the_function_from_its_config(client, tmp_path, tiny_ternary_dir):
    _fill(client, tiny_ternary_dir)
    reopened = chroma.persistent_client(tmp_path / "chroma").get_collection("notes")  # no function passed
    assert reopened.configuration["hnsw"]["space"] == "cosine"
    function = reopened.configuration["embedding_function"]
    assert isinstance(function, chroma.TernembedEmbeddingFunction)
    assert function.get_config()["model"] == tiny_ternary_dir
    hits = reopened.query(query_texts=["quantum physics note number 14"], n_results=1)
    assert hits["ids"][0] == ["d14"] and hits["distances"][0][0] == pytest.approx(0.0, abs=1e-4)


def test_function_embeds_like_the_model_and_round_trips_its_config(tiny_ternary_dir):
    import ternembed

    function = chroma.TernembedEmbeddingFunction(tiny_ternary_dir, batch_size=4)
    texts = ["cats and kittens", "baking bread"]
    expected = ternembed.load(tiny_ternary_dir).encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(np.stack(function(texts)), expected, atol=1e-5)
    np.testing.assert_allclose(np.stack(function.embed_query(texts)), expected, atol=1e-5)
    rebuilt = chroma.TernembedEmbeddingFunction.build_from_config(function.get_config())
    assert rebuilt.get_config() == {"model": tiny_ternary_dir, "batch_size": 4} and not rebuilt.is_legacy()
    assert chroma.TernembedEmbeddingFunction.name() == "ternembed"
    with pytest.raises(ValueError, match="cannot be changed"):
        function.validate_config_update(function.get_config(), {"model": "another"})


def test_in_memory_model_has_no_config_to_store(tiny_ternary_dir):
    import ternembed

    function = chroma.TernembedEmbeddingFunction(ternembed.load(tiny_ternary_dir))
    assert len(function(["a text"])[0]) == 32
    with pytest.raises(ValueError, match="pass the model's folder or name"):
        function.get_config()
