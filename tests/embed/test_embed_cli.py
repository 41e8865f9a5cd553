"""`ternembed embed` on the tiny model: columns, precisions, truncation, resume, refusals, one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from ternembed.embed import embed_corpus
from ternembed.embed.output import PartsWriter
from tests.embed.conftest import corpus_records, read_vectors


@pytest.fixture(scope="module")
def reference_vectors(tiny_st_dir) -> np.ndarray:
    """The tiny model's normalized document embeddings of the corpus texts, encoded directly."""
    from ternembed.index.model_ref import encode_texts, load_model

    return encode_texts(load_model(tiny_st_dir), [r["text"] for r in corpus_records()], "document")


def test_float32_vectors_ids_payload_and_metadata(
    tiny_st_dir, jsonl_corpus, tmp_path, run_cli, reference_vectors
):
    out = tmp_path / "v.parquet"
    code, stdout, _ = run_cli(
        "embed", tiny_st_dir, jsonl_corpus, "--out", out, "--chunk-size", 16, "--no-progress"
    )
    assert code == 0 and "embedded 45 records" in stdout
    ids, vectors, payloads, metadata = read_vectors(out)
    assert ids == [r["id"] for r in corpus_records()]
    np.testing.assert_allclose(vectors, reference_vectors, atol=1e-6)
    assert payloads[7] == {"text": "mountain hiking note number 7", "topic": "mountain hiking", "n": 7}
    assert metadata["dimension"] == 32 and metadata["precision"] == "float32" and metadata["count"] == 45
    assert metadata["text_field"] == "text" and metadata["id_field"] == "id"
    assert not (tmp_path / "v.parquet.partial").exists()


def test_int8_and_binary_codes(tiny_st_dir, jsonl_corpus, tmp_path, reference_vectors):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ternembed.data.vectors_file import vectors_from_array

    int8 = embed_corpus(tiny_st_dir, jsonl_corpus, tmp_path / "i.parquet", precision="int8", chunk_size=16,
                        show_progress=False)  # fmt: skip
    table = pq.read_table(int8.out)
    assert table.schema.field("vector").type == pa.list_(pa.int8(), 32)
    _, _, _, metadata = read_vectors(int8.out)
    scale = metadata["int8_scale"]
    first_chunk_max = np.abs(reference_vectors[:16]).max()
    assert scale == pytest.approx(first_chunk_max / 127, rel=1e-6)
    decoded = vectors_from_array(table.column("vector"), "int8", scale)
    assert np.abs(decoded - np.clip(reference_vectors, -127 * scale, 127 * scale)).max() <= scale / 2 + 1e-7

    binary = embed_corpus(tiny_st_dir, jsonl_corpus, tmp_path / "b.parquet", precision="binary",
                          show_progress=False)  # fmt: skip
    codes = vectors_from_array(pq.read_table(binary.out).column("vector"), "binary")
    assert codes.shape == (45, 4) and codes.dtype == np.uint8
    np.testing.assert_array_equal(np.unpackbits(codes, axis=1), (reference_vectors > 0).astype(np.uint8))


def test_truncate_dim_renormalizes_and_refuses_too_many(
    tiny_st_dir, jsonl_corpus, tmp_path, run_cli, reference_vectors
):
    out = tmp_path / "t.parquet"
    code, _, _ = run_cli(
        "embed", tiny_st_dir, jsonl_corpus, "--out", out, "--truncate-dim", 8, "--no-progress"
    )
    assert code == 0
    _, vectors, _, metadata = read_vectors(out)
    expected = reference_vectors[:, :8] / np.linalg.norm(reference_vectors[:, :8], axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert metadata["dimension"] == 8 and metadata["truncate_dim"] == 8
    code, _, err = run_cli(
        "embed", tiny_st_dir, jsonl_corpus, "--out", tmp_path / "x.parquet", "--truncate-dim", 33
    )
    assert code == 2 and "--truncate-dim 33 is outside 1..32" in err and "Traceback" not in err


def test_interrupted_run_resumes_where_it_stopped(tiny_st_dir, jsonl_corpus, tmp_path, monkeypatch, run_cli):
    out = tmp_path / "v.parquet"
    write_chunk = PartsWriter.write_chunk
    calls = []

    def interrupting(self, chunk, vectors, precision):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(chunk.index)
        write_chunk(self, chunk, vectors, precision)

    monkeypatch.setattr(PartsWriter, "write_chunk", interrupting)
    args = ("embed", tiny_st_dir, jsonl_corpus, "--out", out, "--chunk-size", 10, "--no-progress")
    assert run_cli(*args)[0] == 130
    monkeypatch.setattr(PartsWriter, "write_chunk", write_chunk)
    assert not out.exists() and sorted(p.name for p in (tmp_path / "v.parquet.partial").glob("part-*")) == [
        "part-000000.parquet", "part-000001.parquet"]  # fmt: skip

    code, _, err = run_cli(*args)
    assert code == 2 and "holds an interrupted run (2 chunks done); pass --resume" in err
    code, _, err = run_cli(*args, "--resume", "--precision", "int8")
    assert code == 2 and "cannot resume" in err and "precision" in err
    code, stdout, _ = run_cli(*args, "--resume")
    assert code == 0 and "embedded 45 records" in stdout and "(25 this run" in stdout
    resumed = read_vectors(out)
    fresh = embed_corpus(
        tiny_st_dir, jsonl_corpus, tmp_path / "fresh.parquet", chunk_size=10, show_progress=False
    )
    expected = read_vectors(fresh.out)
    assert resumed[0] == expected[0] and resumed[2] == expected[2]
    np.testing.assert_array_equal(resumed[1], expected[1])


def test_finished_output_is_refused_unless_overwrite(tiny_st_dir, jsonl_corpus, tmp_path, run_cli):
    out = tmp_path / "v.parquet"
    args = ("embed", tiny_st_dir, jsonl_corpus, "--out", out, "--no-progress")
    assert run_cli(*args)[0] == 0
    for extra in ((), ("--resume",)):
        code, _, err = run_cli(*args, *extra)
        assert code == 2 and "already exists; pass --overwrite" in err
    assert run_cli(*args, "--overwrite", "--precision", "binary")[0] == 0
    assert read_vectors(out)[3]["precision"] == "binary"


def test_bad_input_is_one_line(tiny_st_dir, tmp_path, run_cli):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', encoding="utf-8")
    code, _, err = run_cli("embed", tiny_st_dir, corpus, "--out", tmp_path / "v.parquet", "--no-progress")
    last = err.strip().splitlines()[-1]
    assert code == 2 and "c.jsonl:2: duplicate id 'a'" in last and "Traceback" not in err
    assert not (tmp_path / "v.parquet").exists()
    code, _, err = run_cli("embed", tiny_st_dir, corpus, "--out", tmp_path / "v.csv")
    assert code == 2 and "must end in .parquet" in err
    code, _, err = run_cli("embed", tiny_st_dir, corpus, "--out", tmp_path / "v.parquet", "--id-field", "key")
    assert code == 2 and "no 'key' field" in err and "--id-field" in err


@pytest.mark.slow
def test_ray_engine_gives_the_same_vectors(tiny_st_dir, jsonl_corpus, tmp_path, run_cli):
    local = tmp_path / "local.parquet"
    assert (
        run_cli("embed", tiny_st_dir, jsonl_corpus, "--out", local, "--chunk-size", 10, "--no-progress")[0]
        == 0
    )
    on_ray = tmp_path / "ray.parquet"
    code, stdout, _ = run_cli("embed", tiny_st_dir, jsonl_corpus, "--out", on_ray, "--chunk-size", 10,
                              "--no-progress", "--engine", "ray", "--actors", 2)  # fmt: skip
    assert code == 0 and "embedded 45 records" in stdout
    import ray

    assert not ray.is_initialized()
    ids, vectors, payloads, _ = read_vectors(on_ray)
    expected = read_vectors(local)
    assert ids == expected[0] and payloads == expected[2]
    np.testing.assert_allclose(vectors, expected[1], atol=1e-6, rtol=0)
