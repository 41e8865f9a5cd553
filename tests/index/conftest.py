"""Fixtures for index tests: synthetic clustered vectors with exact neighbours, corpora, a tiny BEIR folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ternembed.index import ModelReference, SearchIndex, create_backend
from ternembed.index.rescore_store import RescoreStore

DIMENSION = 128


@pytest.fixture(scope="session", autouse=True)
def _single_threaded_faiss():
    """One faiss thread: on a shared 2-core machine OpenMP spin-waiting makes tiny searches slow."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


def _clustered(rng: np.random.Generator, count: int, centers: np.ndarray, mixing: np.ndarray) -> np.ndarray:
    """Points near cluster centres along a 16-d latent subspace, L2-normalized (a low intrinsic dimension,
    as real embeddings have)."""
    latent = rng.normal(size=(count, mixing.shape[0]))
    points = centers[rng.integers(0, len(centers), count)] + 0.35 * latent @ mixing
    points += 0.05 * rng.normal(size=points.shape)
    points = points.astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


@pytest.fixture(scope="session")
def synthetic() -> dict[str, np.ndarray]:
    """2000 corpus vectors, 100 queries and the exact top-10 labels by inner product."""
    rng = np.random.default_rng(0)
    centers, mixing = rng.normal(size=(20, DIMENSION)), rng.normal(size=(16, DIMENSION))
    corpus, queries = _clustered(rng, 2000, centers, mixing), _clustered(rng, 100, centers, mixing)
    exact = np.argsort(-(queries @ corpus.T), axis=1, kind="stable")[:, :10]
    return {"corpus": corpus, "queries": queries, "exact": exact}


def synthetic_index(
    backend: str, precision: str, rescore: int = 0, rescore_from: str = "codes", **params
) -> SearchIndex:
    """An empty SearchIndex over DIMENSION-d vectors that has no model (vectors only)."""
    reference = ModelReference(None, DIMENSION, "cosine", "synthetic", [])
    store = None if rescore_from == "codes" else RescoreStore(rescore_from, DIMENSION)
    vectors = create_backend(backend, DIMENSION, precision, expected_count=2000, **params)
    return SearchIndex(vectors, reference, rescore=rescore, rescore_store=store)


def write_jsonl(path: Path, records: list[dict] | list[str]) -> Path:
    """Write records (dicts as JSON, strings verbatim) one per line."""
    lines = [record if isinstance(record, str) else json.dumps(record) for record in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


TOPICS = ["cats and kittens", "stock markets", "mountain hiking", "baking bread", "quantum physics"]


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    """40 short documents on 5 topics, ids d0..d39."""
    records = [{"id": f"d{i}", "text": f"{TOPICS[i % 5]} note number {i}"} for i in range(40)]
    return write_jsonl(tmp_path / "docs.jsonl", records)


@pytest.fixture
def tiny_beir(tmp_path) -> Path:
    """A BEIR folder: 60 documents, 10 queries, one relevant document each."""
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    write_jsonl(
        folder / "corpus.jsonl",
        [
            {"_id": f"c{i}", "title": TOPICS[i % 5], "text": f"passage {i} about {TOPICS[i % 5]}"}
            for i in range(60)
        ],
    )
    write_jsonl(
        folder / "queries.jsonl",
        [{"_id": f"q{i}", "text": f"passage {i} about {TOPICS[i % 5]}"} for i in range(10)],
    )
    qrels = ["query-id\tcorpus-id\tscore"] + [f"q{i}\tc{i}\t1" for i in range(10)]
    (folder / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_model(tiny_st_dir):
    """The tiny random sentence-transformer, loaded once."""
    from ternembed.index import load_model

    return load_model(tiny_st_dir)


@pytest.fixture(scope="session")
def other_tiny_model(tiny_st_dir):
    """The tiny model with perturbed weights: same dimension, different embeddings."""
    import torch

    from ternembed.index import load_model

    model = load_model(tiny_st_dir)
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.2 * torch.randn_like(parameter))
    return model
