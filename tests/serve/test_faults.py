"""Server faults: a torn last WAL record, the bearer API key, SIGTERM with requests in flight,
and the saved folder's checksums after a server compacts it."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from ternembed.index import IndexFormatError, SearchIndex
from ternembed.index.storage import CONFIG_FILE, FILES_KEY, IDS_FILE, sha256_of
from ternembed.serve.index_store import ServedIndex
from ternembed.serve.schemas import DocumentIn
from ternembed.serve.wal import WAL_FILE, WriteAheadLog
from tests.serve.conftest import ServerProcess, build_catalogue_index


def _logged(path, count: int) -> WriteAheadLog:
    log = WriteAheadLog(path)
    for number in range(count):
        log.append({"op": "delete", "ids": [f"d{number}"]})
    return log


def test_torn_last_record_is_cut_with_a_warning(tmp_path, caplog):
    log = _logged(tmp_path / WAL_FILE, 3)
    content = log.path.read_bytes()
    last_start = content.rstrip(b"\n").rfind(b"\n") + 1
    log.path.write_bytes(content[: last_start + (len(content) - last_start) // 2])
    with caplog.at_level(logging.WARNING, logger="ternembed.serve.wal"):
        records = log.records()
    assert [record["ids"] for record in records] == [["d0"], ["d1"]]
    assert "torn last change record" in caplog.text and "kept the 2 complete records before it" in caplog.text
    assert log.path.read_bytes() == content[:last_start]  # cut, so the next append starts a clean line
    log.append({"op": "delete", "ids": ["d9"]})
    assert [record["ids"] for record in WriteAheadLog(log.path).records()] == [["d0"], ["d1"], ["d9"]]


def test_a_damaged_record_before_others_is_refused(tmp_path):
    log = _logged(tmp_path / WAL_FILE, 3)
    lines = log.path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"d1", b"d7")  # CRC no longer matches
    log.path.write_bytes(b"".join(lines))
    with pytest.raises(IndexFormatError, match="byte .* before others; the log is corrupt"):
        log.records()


def test_a_failed_append_leaves_no_partial_record(tmp_path, monkeypatch):
    log = _logged(tmp_path / WAL_FILE, 1)
    before = log.path.read_bytes()
    real_write = os.write

    def write_half_then_fail(descriptor, data):
        real_write(descriptor, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", write_half_then_fail)
    with pytest.raises(OSError, match="No space"):
        log.append({"op": "delete", "ids": ["lost"]})
    monkeypatch.setattr(os, "write", real_write)
    assert log.path.read_bytes() == before
    log.append({"op": "delete", "ids": ["kept"]})
    assert [record["ids"] for record in log.records()] == [["d0"], ["kept"]]


def test_served_compaction_records_fresh_checksums(ternary_dir, ternary_model, tmp_path):
    folder = build_catalogue_index(ternary_dir, tmp_path / "catalogue")  # faiss-hnsw: deletes are tombstones
    served = ServedIndex("shop", folder, SearchIndex.load(folder, model=ternary_model))
    vectors = ternary_model.encode(["a brand new text"], normalize_embeddings=True)
    served.add([DocumentIn(id="fresh", text="a brand new text")], np.asarray(vectors, dtype=np.float32))
    served.remove(["d0", "d1"])
    served.checkpoint()
    assert not (folder / WAL_FILE).exists()
    files = json.loads((folder / CONFIG_FILE).read_text())[FILES_KEY]
    assert files[IDS_FILE]["sha256"] == sha256_of(folder / IDS_FILE)
    reloaded = SearchIndex.load(folder, with_model=False)
    assert "fresh" in reloaded and "d0" not in reloaded and len(reloaded) == 39


@pytest.mark.slow
def test_restart_after_a_torn_wal_record_keeps_acknowledged_writes(ternary_dir, tmp_path):
    folder = build_catalogue_index(ternary_dir, tmp_path / "catalogue")
    process = ServerProcess([ternary_dir, "--index", f"shop={folder}"])
    try:
        for doc_id in ("kept", "torn"):
            body = {"documents": [{"id": doc_id, "text": f"{doc_id} sourdough starter"}]}
            assert process.post("/v1/indexes/shop/documents", body).status_code == 200
    finally:
        process.stop(signal.SIGKILL)
    wal = folder / WAL_FILE
    content = wal.read_bytes()
    last_start = content.rstrip(b"\n").rfind(b"\n") + 1
    wal.write_bytes(content[: last_start + (len(content) - last_start) // 2])  # died mid-write

    restarted = ServerProcess([ternary_dir, "--index", f"shop={folder}"])
    try:
        assert httpx.get(f"{restarted.url}/v1/indexes/shop/documents/kept").status_code == 200
        assert httpx.get(f"{restarted.url}/v1/indexes/shop/documents/torn").status_code == 404
        assert restarted.post("/v1/search", {"index": "shop", "queries": ["x"], "k": 50}).json()["results"][0]
    finally:
        code = restarted.stop()
    output = restarted.process.stdout.read()
    assert code == 0, output
    assert "torn last change record" in output and "Traceback" not in output
    saved = SearchIndex.load(folder, with_model=False)
    assert "kept" in saved and "torn" not in saved and len(saved) == 41


@pytest.mark.slow
def test_api_key_and_sigterm_finishes_in_flight_requests(ternary_dir, ternary_model):
    process = ServerProcess(
        [ternary_dir, "--api-key-env", "TERNEMBED_TEST_KEY", "--max-client-batch-size", "64"],
        env={"TERNEMBED_TEST_KEY": "s3cret"},
    )
    good = {"Authorization": "Bearer s3cret"}
    try:
        body = {"inputs": ["hello"]}
        assert process.post("/embed", body).status_code == 401
        wrong = process.post("/v1/embeddings", {"input": "hello"}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert process.post("/embed", body, headers={"Authorization": "s3cret"}).status_code == 401
        assert process.post("/embed", body, headers=good).status_code == 200
        assert httpx.get(f"{process.url}/health").status_code == 200  # probes need no key

        texts = [[f"request {i} sentence {j} " * 20 for j in range(64)] for i in range(8)]
        started = threading.Event()

        def call(batch):
            started.set()
            return process.post("/embed", {"inputs": batch}, headers=good)

        with ThreadPoolExecutor(len(texts)) as pool:
            futures = [pool.submit(call, batch) for batch in texts]
            started.wait()
            time.sleep(0.3)  # the requests are being read or encoded
            process.process.send_signal(signal.SIGTERM)
            replies = [future.result() for future in futures]
        code = process.process.wait(timeout=60)
    finally:
        process.stop()
    assert code == 0, process.process.stdout.read()
    for batch, reply in zip(texts, replies, strict=True):
        assert reply.status_code == 200
        expected = ternary_model.encode(batch, normalize_embeddings=True, convert_to_numpy=True)
        np.testing.assert_allclose(np.array(reply.json()), expected, atol=1e-5)
