"""The OpenAI- and TEI-compatible endpoints of a real server process, checked against ``model.encode``."""

from __future__ import annotations

import numpy as np
import pytest

TEXTS = ["a quick brown fox", "ternary weights are small", "where is the station?"]


def _encode(model, texts):
    return model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)


def test_openai_client_gets_the_models_embeddings(server, ternary_model):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    reply = client.embeddings.create(model="tiny-ternary", input=TEXTS)  # the client asks for base64
    vectors = np.array([item.embedding for item in reply.data])
    np.testing.assert_allclose(vectors, _encode(ternary_model, TEXTS), atol=1e-5)
    assert reply.model == "tiny-ternary" and reply.usage.prompt_tokens == reply.usage.total_tokens > 0

    floats = client.embeddings.create(model="x", input="a quick brown fox", encoding_format="float")
    np.testing.assert_allclose(floats.data[0].embedding, vectors[0], atol=1e-6)

    short = client.embeddings.create(model="x", input=TEXTS[0], dimensions=8).data[0].embedding
    expected = _encode(ternary_model, TEXTS[:1])[0, :8]
    np.testing.assert_allclose(short, expected / np.linalg.norm(expected), atol=1e-5)


def test_token_id_inputs_equal_the_texts_they_spell(server, ternary_model):
    tokenizer = ternary_model.tokenizer
    ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in TEXTS]
    by_ids = server.post("/v1/embeddings", {"input": ids, "encoding_format": "float"}).json()
    single = server.post("/v1/embeddings", {"input": ids[0]}).json()
    vectors = np.array([item["embedding"] for item in by_ids["data"]])
    np.testing.assert_allclose(vectors, _encode(ternary_model, TEXTS), atol=1e-5)
    np.testing.assert_allclose(single["data"][0]["embedding"], vectors[0], atol=1e-6)


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"input": []}, 400, "input"),
        ({"input": ""}, 400, "input"),
        ({"input": ["ok", ""]}, 400, "input"),
        ({"input": 3}, 400, "input"),
        ({"input": [True]}, 400, "input"),
        ({"input": [[]]}, 400, "input"),
        ({"input": [10**9]}, 400, "input"),
        ({"input": "x", "dimensions": 10_000}, 400, "dimensions"),
        ({"input": "x", "dimensions": 0}, 400, "dimensions"),
        ({"input": "x", "encoding_format": "hex"}, 400, "encoding_format"),
        ({"input": ["x"] * 33}, 413, "input"),
        ({"input": "word " * 200, "truncate": False}, 413, "input"),
        ({}, 400, "input"),
    ],
)
def test_malformed_requests_get_openai_errors(server, body, status, param):
    reply = server.post("/v1/embeddings", body)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["message"] and error["type"] and error["param"] == param


def test_long_inputs_are_truncated_by_default(server, ternary_model):
    text = "word " * 200
    reply = server.post("/v1/embeddings", {"input": text, "encoding_format": "float"}).json()
    np.testing.assert_allclose(reply["data"][0]["embedding"], _encode(ternary_model, [text])[0], atol=1e-5)
    assert reply["usage"]["prompt_tokens"] == ternary_model.max_seq_length


def test_openai_client_raises_its_own_error_types(server):
    import openai

    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="empty"):
        client.embeddings.create(model="x", input=[])


def test_tei_embed_info_health_and_metrics(server, ternary_model):
    reply = server.post("/embed", {"inputs": TEXTS})
    np.testing.assert_allclose(np.array(reply.json()), _encode(ternary_model, TEXTS), atol=1e-5)
    left = server.post("/embed", {"inputs": "word " * 100 + "end", "truncation_direction": "Left"})
    assert left.status_code == 200
    refused = server.post("/embed", {"inputs": "word " * 100, "truncate": False})
    assert refused.status_code == 413 and refused.json()["error_type"] == "Validation"
    bad = server.post("/embed", {"inputs": "x", "prompt_name": "nope"})
    assert bad.status_code == 422 and "nope" in bad.json()["error"]
    wrong_type = server.post("/embed", {"inputs": "x", "normalize": "yes"})
    assert wrong_type.status_code == 422

    import httpx

    info = httpx.get(f"{server.url}/info").json()
    assert info["model_id"] == "tiny-ternary" and info["dimension"] == ternary_model.get_embedding_dimension()
    assert info["max_input_length"] == ternary_model.max_seq_length and "catalogue" in info["indexes"]
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    metrics = httpx.get(f"{server.url}/metrics").text
    for name in (
        'ternembed_requests_total{route="/embed",status="200"}',
        "ternembed_request_duration_seconds_bucket",
        "ternembed_queue_duration_seconds_count",
        "ternembed_tokenization_duration_seconds_count",
        "ternembed_inference_duration_seconds_count",
        "ternembed_batch_size_bucket",
    ):
        assert name in metrics


def test_unknown_routes_and_oversized_bodies_are_4xx(server):
    import httpx

    assert server.post("/v2/nothing", {}).json()["error"]["type"] == "not_found_error"
    huge = httpx.post(f"{server.url}/v1/embeddings", content=b"x" * (9 * 1024 * 1024), timeout=60)
    assert huge.status_code == 413 and "limit" in huge.json()["error"]["message"]
    not_json = httpx.post(
        f"{server.url}/v1/embeddings", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
