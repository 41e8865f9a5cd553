"""The chunked corpus reader: every format gives the same records in the same chunks; bad input is one line."""

from __future__ import annotations

import json

import pytest

from ternembed.embed import CorpusReader, RecordsError
from tests.embed.conftest import corpus_records


def _write_all_formats(tmp_path) -> dict[str, object]:
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = corpus_records()
    paths = {}
    paths["jsonl"] = tmp_path / "c.jsonl"
    paths["jsonl"].write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    paths["csv"] = tmp_path / "c.csv"
    lines = ["id,text,topic,n"] + [f"{r['id']},{r['text']},{r['topic']},{r['n']}" for r in records]
    paths["csv"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths["parquet"] = tmp_path / "c.parquet"
    pq.write_table(pa.Table.from_pylist(records), paths["parquet"], row_group_size=7)
    paths["datasets"] = tmp_path / "saved"
    datasets.Dataset.from_list(records).save_to_disk(str(paths["datasets"]))
    return paths


def test_every_format_gives_the_same_chunks(tmp_path):
    paths = _write_all_formats(tmp_path)
    expected_ids = [r["id"] for r in corpus_records()]
    for kind, path in paths.items():
        reader = CorpusReader(path)
        assert reader.format == kind and reader.count() == 45
        chunks = list(reader.chunks(10))
        assert [len(c) for c in chunks] == [10, 10, 10, 10, 5], kind
        assert [i for c in chunks for i in c.ids] == expected_ids, kind
        assert chunks[1].texts[0] == "cats and kittens note number 10"
        payload = json.loads(chunks[0].payloads[3])
        assert payload["text"] == "baking bread note number 3" and payload["topic"] == "baking bread"
        assert "id" not in payload


def test_skipped_chunks_are_not_returned(tmp_path):
    reader = CorpusReader(_write_all_formats(tmp_path)["jsonl"])
    assert [c.index for c in reader.chunks(10, skip=frozenset({0, 2}))] == [1, 3, 4]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a", "text": "x"}', '{"id": "a", "text": "y"}'], "c.jsonl:2: duplicate id 'a'"),
        (
            ['{"id": "a", "body": "x"}'],
            "c.jsonl:1: no 'text' field (fields: 'id', 'body'); choose one with --text-field",
        ),
        (['{"id": "a", "text": 3}'], "c.jsonl:1: 'text' must be a string, got int"),
        (['{"id": "a", "text": "x"}', "{broken"], "c.jsonl:2: not valid JSON"),
        (["", "  "], "has no records"),
    ],
)
def test_bad_jsonl_names_file_and_line(tmp_path, lines, message):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RecordsError, match=None) as error:
        list(CorpusReader(path).chunks(4))
    assert message in str(error.value)


def test_bad_paths_and_columns(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        CorpusReader(tmp_path / "missing.jsonl")
    (tmp_path / "c.txt").write_text("a\n")
    with pytest.raises(RecordsError, match="corpora are .jsonl"):
        CorpusReader(tmp_path / "c.txt")
    (tmp_path / "folder").mkdir()
    with pytest.raises(RecordsError, match="not a datasets save_to_disk folder"):
        CorpusReader(tmp_path / "folder")
    paths = _write_all_formats(tmp_path)
    for kind in ("csv", "parquet", "datasets"):
        with pytest.raises(RecordsError, match="has no column 'body'.*--text-field"):
            list(CorpusReader(paths[kind], text_field="body").chunks(4))
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(RecordsError, match="cannot read .* as Parquet"):
        CorpusReader(tmp_path / "bad.parquet").count()
