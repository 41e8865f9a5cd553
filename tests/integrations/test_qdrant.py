"""Qdrant through qdrant-client's local mode: named vectors, payload filters, recommendations."""

from __future__ import annotations

import pytest
from qdrant_client import QdrantClient, models

from ternembed.integrations.qdrant import TernembedQdrant, connect, point_id
from tests.integrations.conftest import DOCUMENTS


@pytest.fixture
def store(tmp_path, tiny_ternary_dir):
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    store = TernembedQdrant(client, "notes", tiny_ternary_dir, vector_name="body")
    store.create_collection()
    store.add(
        [doc["id"] for doc in DOCUMENTS],
        [doc["text"] for doc in DOCUMENTS],
        payloads=[{"topic": doc["topic"], "number": i} for i, doc in enumerate(DOCUMENTS)],
        batch_size=16,
    )
    yield store
    client.close()


def test_named_vector_collection_and_search(store):
    info = store.client.get_collection("notes")
    assert info.config.params.vectors["body"].size == 32
    assert info.config.params.vectors["body"].distance == models.Distance.COSINE
    assert store.client.count("notes").count == 40
    hits = store.search("mountain hiking note number 7", limit=3)
    assert hits[0].payload == {
        "id": "d7",
        "text": "mountain hiking note number 7",
        "topic": "mountain hiking",
        "number": 7,
    }
    assert hits[0].id == point_id("d7") and hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_payload_filters(store):
    only_bread = models.Filter(
        must=[models.FieldCondition(key="topic", match=models.MatchValue(value="baking bread"))]
    )
    hits = store.search("mountain hiking note number 7", limit=5, query_filter=only_bread)
    assert len(hits) == 5 and {hit.payload["topic"] for hit in hits} == {"baking bread"}
    low = models.Filter(must=[models.FieldCondition(key="number", range=models.Range(lt=10))])
    assert {
        hit.payload["number"] for hit in store.search("stock markets", limit=40, query_filter=low)
    } == set(range(10))


def test_recommend_by_ids_and_texts(store):
    hits = store.recommend(positive=["d7"], limit=4)
    ids = [hit.payload["id"] for hit in hits]
    assert "d7" not in ids and len(ids) == 4
    assert ids == [hit.payload["id"] for hit in store.search("mountain hiking note number 7", limit=5)][1:]
    by_text = store.recommend(positive_texts=["quantum physics note number 9"], negative=["d3"], limit=3)
    assert len(by_text) == 3 and "d3" not in {hit.payload["id"] for hit in by_text}
    strict = models.Filter(
        must=[models.FieldCondition(key="topic", match=models.MatchValue(value="stock markets"))]
    )
    filtered = store.recommend(positive=["d7"], limit=3, query_filter=strict)
    assert {hit.payload["topic"] for hit in filtered} == {"stock markets"}
    with pytest.raises(ValueError, match="at least one positive or negative"):
        store.recommend()


def test_a_second_named_vector_beside_ours(tmp_path, tiny_ternary_dir, tiny_st_dir):
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    body = TernembedQdrant(client, "notes", tiny_ternary_dir, vector_name="body")
    teacher = TernembedQdrant(client, "notes", tiny_st_dir, vector_name="teacher")
    client.create_collection("notes", vectors_config={**body.vectors_config(), **teacher.vectors_config()})
    body.add(["a", "b"], ["cats and kittens", "stock markets"])
    client.update_vectors(
        "notes",
        points=[
            models.PointVectors(id=point_id(doc_id), vector={"teacher": vector.tolist()})
            for doc_id, vector in zip(
                ["a", "b"], teacher.encoder.encode(["cats and kittens", "stock markets"]), strict=True
            )
        ],
    )
    assert body.search("stock markets", limit=1)[0].payload["id"] == "b"
    assert teacher.search("stock markets", limit=1)[0].payload["id"] == "b"
    client.close()


def test_existing_collection_is_refused_unless_overwrite(store):
    with pytest.raises(ValueError, match="'notes' already exists"):
        store.create_collection()
    store.create_collection(overwrite=True)
    assert store.client.count("notes").count == 0


def test_point_ids_and_argument_checks(store):
    assert point_id("d1") == point_id("d1") != point_id("d2") and point_id(7) == 7
    assert point_id(-1) != -1 and isinstance(point_id(True), str)
    with pytest.raises(ValueError, match="2 ids, 1 texts"):
        store.add(["x", "y"], ["only one"])


def test_connect_local_folder_and_server_url(tmp_path):
    local = connect(tmp_path / "q")
    assert local.get_collections().collections == []
    local.close()
    server = connect("http://localhost:6333")
    assert server.init_options["url"] == "http://localhost:6333"
