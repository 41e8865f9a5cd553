"""Fixtures of the embed tests: a small corpus in every supported format, and a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TOPICS = ["cats and kittens", "stock markets", "mountain hiking", "baking bread", "quantum physics"]


def corpus_records(count: int = 45) -> list[dict]:
    """Records with an id, a text and two other fields."""
    return [
        {"id": f"d{i}", "text": f"{TOPICS[i % 5]} note number {i}", "topic": TOPICS[i % 5], "n": i}
        for i in range(count)
    ]


@pytest.fixture
def jsonl_corpus(tmp_path) -> Path:
    """45 records as JSON lines."""
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in corpus_records()), encoding="utf-8")
    return path


@pytest.fixture()
def run_cli(capsys):
    """Run ``ternembed ARGS...`` in-process; returns (exit code, stdout, stderr)."""
    from ternembed.cli.main import main

    def run(*args) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def read_vectors(path: Path):
    """``(ids, vectors [n, width] numpy, payload dicts, metadata)`` of a vectors file."""
    import pyarrow.parquet as pq

    from ternembed.data.vectors_file import vectors_from_array
    from ternembed.embed import read_metadata

    table = pq.read_table(path)
    metadata = read_metadata(path)
    vectors = vectors_from_array(table.column("vector"), metadata["precision"])
    payloads = [json.loads(p) for p in table.column("payload").to_pylist()]
    return table.column("id").to_pylist(), vectors, payloads, metadata
