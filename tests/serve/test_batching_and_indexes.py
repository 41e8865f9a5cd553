"""Concurrent requests, overload, search and recommendation, and live writes surviving ``kill -9``."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tests.serve.conftest import ServerProcess, build_catalogue_index


def test_interleaved_concurrent_requests_each_equal_encode(server, ternary_model):
    requests = [[f"text {i} number {j} " * (1 + (i * j) % 7) for j in range(1 + i % 5)] for i in range(48)]
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda texts: server.post("/embed", {"inputs": texts}), requests))
    for texts, reply in zip(requests, replies, strict=True):
        expected = ternary_model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        np.testing.assert_allclose(np.array(reply.json()), expected, atol=1e-5)


def test_overload_gets_429_with_retry_after(ternary_dir):
    process = ServerProcess([ternary_dir, "--max-concurrent-requests", "1", "--max-batch-tokens", "64"])
    try:
        body = {"inputs": ["word " * 40] * 32}
        with ThreadPoolExecutor(32) as pool:
            replies = list(pool.map(lambda _: process.post("/embed", body), range(64)))
        statuses = {reply.status_code for reply in replies}
        assert statuses <= {200, 429} and 429 in statuses and 200 in statuses
        refused = next(reply for reply in replies if reply.status_code == 429)
        assert refused.headers["retry-after"] == "1"
    finally:
        assert process.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after draining


def test_search_recommend_and_writes_survive_kill_9(ternary_dir, tmp_path):
    folder = build_catalogue_index(ternary_dir, tmp_path / "catalogue")
    process = ServerProcess([ternary_dir, "--index", f"shop={folder}"])
    try:
        hits = process.post(
            "/v1/search", {"index": "shop", "queries": ["baking bread note number 3"], "k": 3}
        )
        first = hits.json()["results"][0]
        assert len(first) == 3 and first[0]["id"] == "d3" and first[0]["metadata"]["topic"] == "baking bread"
        filtered = process.post(
            "/v1/search",
            {
                "index": "shop",
                "queries": ["cats"],
                "k": 5,
                "filter": {"topic": "stock markets", "price": {"$lt": 20}},
            },
        ).json()["results"][0]
        assert filtered and all(
            hit["metadata"]["topic"] == "stock markets" and hit["metadata"]["price"] < 20 for hit in filtered
        )
        liked = process.post(
            "/v1/recommend", {"index": "shop", "positive": ["d0", "d5"], "negative": ["d1"], "k": 5}
        )
        ids = [hit["id"] for hit in liked.json()["results"]]
        assert len(ids) == 5 and not {"d0", "d5", "d1"} & set(ids)
        for body, status in [
            ({"index": "nope", "queries": ["x"]}, 404),
            ({"index": "shop", "queries": ["x"], "k": 0}, 400),
            ({"index": "shop", "queries": ["x"], "k": 10**6}, 400),
            ({"index": "shop", "vectors": [[0.1]]}, 400),
            ({"index": "shop", "queries": ["x"], "filter": {"$nor": []}}, 400),
        ]:
            assert process.post("/v1/search", body).status_code == status
        assert process.post("/v1/recommend", {"index": "shop", "positive": ["missing"]}).status_code == 404

        added = process.post(
            "/v1/indexes/shop/documents",
            {"documents": [{"id": "new1", "text": "a fresh sourdough recipe", "metadata": {"topic": "new"}}]},
        )
        assert added.status_code == 200
        assert (
            process.post(
                "/v1/indexes/shop/documents", {"documents": [{"id": "new1", "text": "again"}]}
            ).status_code
            == 409
        )
        import httpx

        deleted = httpx.request("DELETE", f"{process.url}/v1/indexes/shop/documents", json={"ids": ["d3"]})
        assert deleted.status_code == 200
        assert (
            httpx.request(
                "DELETE", f"{process.url}/v1/indexes/shop/documents", json={"ids": ["d3"]}
            ).status_code
            == 404
        )
    finally:
        process.stop(signal.SIGKILL)

    restarted = ServerProcess([ternary_dir, "--index", f"shop={folder}"])
    try:
        found = restarted.post(
            "/v1/search", {"index": "shop", "queries": ["a fresh sourdough recipe"], "k": 40}
        ).json()
        ids = [hit["id"] for hit in found["results"][0]]
        assert ids[0] == "new1" and "d3" not in ids and len(ids) == 40
        assert httpx.get(f"{restarted.url}/v1/indexes/shop/documents/new1").json()["metadata"] == {
            "topic": "new"
        }
    finally:
        assert restarted.stop() in (0, -signal.SIGTERM)
    from ternembed.index import SearchIndex

    saved = SearchIndex.load(folder, with_model=False)  # the clean stop saved the changes into the folder
    assert "new1" in saved and "d3" not in saved and saved.payloads.text("new1") == "a fresh sourdough recipe"
