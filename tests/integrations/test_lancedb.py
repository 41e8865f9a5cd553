"""LanceDB with the registered ``ternembed`` embedding function, on a real local database."""

from __future__ import annotations

import lancedb
import numpy as np
import pytest
from lancedb.embeddings import get_registry
from lancedb.pydantic import LanceModel, Vector

from ternembed.index.corpus import Document
from ternembed.integrations import lancedb as lance
from tests.integrations.conftest import DOCUMENTS

CORPUS = [Document(doc["id"], doc["text"], line) for line, doc in enumerate(DOCUMENTS, 1)]


def test_registry_schema_fields_and_text_search(tmp_path, tiny_ternary_dir):
    function = get_registry().get("ternembed").create(name=tiny_ternary_dir)
    assert isinstance(function, lance.TernembedEmbeddings) and function.ndims() == 32

    class Note(LanceModel):
        id: str
        topic: str
        text: str = function.SourceField()
        vector: Vector(function.ndims()) = function.VectorField()

    table = lancedb.connect(tmp_path / "db").create_table("notes", schema=Note)
    table.add([{"id": doc["id"], "topic": doc["topic"], "text": doc["text"]} for doc in DOCUMENTS])
    hits = table.search("mountain hiking note number 7").limit(3).to_list()
    assert hits[0]["id"] == "d7" and len(hits) == 3
    filtered = (
        table.search("mountain hiking note number 7").where("topic = 'stock markets'").limit(4).to_list()
    )
    assert len(filtered) == 4 and {hit["topic"] for hit in filtered} == {"stock markets"}
    stored = np.stack(table.to_pandas().sort_values("id")["vector"].to_numpy())
    assert stored.dtype == np.float32 and np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-5)


def test_create_table_float32_reopens_and_searches_exactly(tmp_path, tiny_ternary_dir):
    table = lance.create_table(lancedb.connect(tmp_path / "db"), "docs", tiny_ternary_dir, CORPUS)
    assert table.count_rows() == 40 and table.list_indices() == []
    reopened = lancedb.connect(tmp_path / "db").open_table("docs")  # the function comes from the schema
    hits = reopened.search("baking bread note number 13").distance_type("cosine").limit(2).to_list()
    assert hits[0]["id"] == "d13" and hits[0]["_distance"] == pytest.approx(0.0, abs=1e-5)


def test_int8_builds_an_8bit_scalar_quantized_index_that_search_uses(tmp_path, tiny_ternary_dir):
    db = lancedb.connect(tmp_path / "db")
    exact = lance.create_table(db, "exact", tiny_ternary_dir, CORPUS)
    table = lance.create_table(db, "int8", tiny_ternary_dir, CORPUS, precision="int8")
    (index,) = table.list_indices()
    assert index.index_type == "IvfSq" and index.index_details["compression"] == {"type": "sq", "num_bits": 8}
    query = "quantum physics note number 24"
    assert "ANNSubIndex" in table.search(query).limit(5).explain_plan()
    approximate = [hit["id"] for hit in table.search(query).limit(5).to_list()]
    truth = [hit["id"] for hit in exact.search(query).distance_type("cosine").limit(5).to_list()]
    assert approximate[0] == truth[0] == "d24" and len(set(approximate) & set(truth)) >= 4


def test_create_refuses_an_existing_table_unless_overwrite_and_bad_precision(tmp_path, tiny_ternary_dir):
    db = lancedb.connect(tmp_path / "db")
    lance.create_table(db, "docs", tiny_ternary_dir, CORPUS[:5])
    with pytest.raises(ValueError, match="already exists"):
        lance.create_table(db, "docs", tiny_ternary_dir, CORPUS[:3])
    assert lance.create_table(db, "docs", tiny_ternary_dir, CORPUS[:3], overwrite=True).count_rows() == 3
    with pytest.raises(ValueError, match="choose one of float32, int8"):
        lance.create_table(db, "other", tiny_ternary_dir, CORPUS, precision="binary")


def test_failed_overwrite_keeps_the_old_table(tmp_path, tiny_ternary_dir):
    db = lancedb.connect(tmp_path / "db")
    lance.create_table(db, "docs", tiny_ternary_dir, CORPUS[:5])

    def broken():
        yield from CORPUS[:3]
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        lance.create_table(db, "docs", tiny_ternary_dir, broken(), overwrite=True, rows_per_write=2)
    assert lancedb.connect(tmp_path / "db").open_table("docs").count_rows() == 5
