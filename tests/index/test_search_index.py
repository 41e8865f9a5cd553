"""SearchIndex with a real (tiny) sentence-transformer: build, search by text, refuse another model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ternembed.index import IndexFormatError, IndexMismatchError, ModelReference, SearchIndex, build_index


def test_build_load_and_search_by_text(tiny_st_dir, tiny_corpus, tmp_path):
    built = build_index(tiny_st_dir, tiny_corpus, tmp_path / "idx", chunk_size=16, show_progress=False)
    index = SearchIndex.load(tmp_path / "idx")
    assert len(index) == len(built) == 40
    (ids,), (scores,) = index.search("baking bread note number 8", k=3)
    assert ids[0] == "d8" and scores == sorted(scores, reverse=True)
    config = json.loads((tmp_path / "idx" / "index_config.json").read_text())
    assert config["model"]["name_or_path"] == tiny_st_dir and config["dimension"] == 32


@pytest.mark.parametrize(("backend", "precision"), [("faiss-ivf", "int8"), ("usearch", "binary")])
def test_trained_and_quantized_backends_build_in_chunks(
    tiny_st_dir, tiny_corpus, tmp_path, backend, precision
):
    build_index(
        tiny_st_dir,
        tiny_corpus,
        tmp_path / "idx",
        backend=backend,
        precision=precision,
        chunk_size=7,
        show_progress=False,
    )
    index = SearchIndex.load(tmp_path / "idx")
    assert len(index) == 40 and index.rescore == 40 and index.precision == precision
    assert index.search("stock markets note number 11", k=5)[0][0][0] == "d11"


def test_refuses_a_different_model(tiny_st_dir, tiny_corpus, tmp_path, other_tiny_model):
    build_index(tiny_st_dir, tiny_corpus, tmp_path / "idx", show_progress=False)
    with pytest.raises(IndexMismatchError, match="not the one the index was built with"):
        SearchIndex.load(tmp_path / "idx", model=other_tiny_model)


def test_refuses_a_model_of_another_dimension(tiny_model, tmp_path):
    index = SearchIndex.create(tiny_model, "tiny")
    index.add_texts(["a"], ["some text"])
    index.save(tmp_path / "idx")
    reference = ModelReference.from_dict(
        json.loads((tmp_path / "idx" / "index_config.json").read_text())["model"]
    )

    class WiderModel:
        similarity_fn_name = "cosine"

        def encode_document(self, texts, **kwargs):
            return np.ones((len(texts), 48), dtype=np.float32)

    with pytest.raises(IndexMismatchError, match="48-dimensional embeddings but the index was built with 32"):
        reference.check(WiderModel())


def test_in_memory_model_needs_model_to_search_by_text(tiny_model, tmp_path):
    index = SearchIndex.create(tiny_model)
    index.add_texts(["a", "b"], ["first text", "second text"])
    index.save(tmp_path / "idx")
    with pytest.raises(ValueError, match="in-memory model; pass model="):
        SearchIndex.load(tmp_path / "idx")
    vectors_only = SearchIndex.load(tmp_path / "idx", with_model=False)
    with pytest.raises(ValueError, match="loaded without a model"):
        vectors_only.search("first")
    assert SearchIndex.load(tmp_path / "idx", model=tiny_model).search("first text", k=1)[0] == [["a"]]


def test_not_an_index_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexFormatError, match="no index_config.json"):
        SearchIndex.load(tmp_path / "empty")


def test_options_are_validated(tiny_model):
    with pytest.raises(ValueError, match="unknown backend 'annoy'"):
        SearchIndex.create(tiny_model, backend="annoy")
    with pytest.raises(ValueError, match="unknown precision 'int4'"):
        SearchIndex.create(tiny_model, precision="int4")
    with pytest.raises(ValueError, match="only applies to int8 or binary"):
        SearchIndex.create(tiny_model, rescore_from="int8")
    with pytest.raises(ValueError, match="does not accept option .ef_search."):
        SearchIndex.create(tiny_model, backend="faiss-flat", ef_search=3)
