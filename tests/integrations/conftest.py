"""Fixtures of the database integration tests: a tiny ternary model folder and a small topical corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.index.conftest import TOPICS, write_jsonl

DOCUMENTS = [
    {"id": f"d{i}", "text": f"{TOPICS[i % 5]} note number {i}", "topic": TOPICS[i % 5]} for i in range(40)
]
"""40 documents on 5 topics; d7 is 'mountain hiking note number 7'."""


@pytest.fixture(scope="session")
def tiny_ternary_dir(tiny_st_dir, tmp_path_factory) -> str:
    """The tiny random sentence-transformer ternarized and saved as a ternembed folder."""
    import ternembed

    config = ternembed.TernaryConfig(granularity="row")
    model = ternembed.ternarize_model(tiny_st_dir, config)
    return str(ternembed.save(model, tmp_path_factory.mktemp("ternary") / "model", config))


@pytest.fixture
def corpus_file(tmp_path) -> Path:
    """DOCUMENTS as a JSON-lines corpus."""
    return write_jsonl(tmp_path / "docs.jsonl", DOCUMENTS)
