"""The JSON-lines corpus reader: every malformed input names its line."""

from __future__ import annotations

import pytest

from ternembed.index import CorpusError, read_corpus
from tests.index.conftest import write_jsonl


def test_reads_documents_skipping_blank_lines(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", [{"id": 1, "text": "one"}, "", {"id": "b", "text": "two"}])
    documents = list(read_corpus(path))
    assert [(d.id, d.text, d.line) for d in documents] == [("1", "one", 1), ("b", "two", 3)]


def test_custom_fields(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", [{"_id": "x", "body": "hello"}])
    assert [d.id for d in read_corpus(path, id_field="_id", text_field="body")] == ["x"]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "has no records"),
        (["", "  "], "has no records"),
        ([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], r":2: duplicate id 'a' \(first on line 1\)"),
        (
            [{"id": "a", "text": "x"}, {"text": "y"}],
            r":2: no 'id' field \(fields: 'text'\); choose one with --id-field",
        ),
        ([{"id": "a", "body": "x"}], r":1: no 'text' field .*--text-field"),
        ([{"id": "a", "text": "x"}, '{"id": "b", "text": '], r":2: not valid JSON"),
        (["[1, 2]"], r":1: expected a JSON object, got list"),
        ([{"id": "", "text": "x"}], r":1: id '' must be a non-empty string or an integer"),
        ([{"id": "a", "text": 3}], r":1: 'text' must be a string, got int"),
    ],
)
def test_bad_input_names_the_line(tmp_path, lines, message):
    path = tmp_path / "c.jsonl"
    write_jsonl(path, lines) if lines else path.write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match=message):
        list(read_corpus(path))


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "\xff"}\n')
    with pytest.raises(CorpusError, match=r":2: not valid UTF-8"):
        list(read_corpus(path))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(read_corpus(tmp_path / "none.jsonl"))


def test_csv_and_parquet_corpora_give_the_same_documents(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": "a", "text": "first text", "lang": "en"}, {"id": "b", "text": "zweiter Text", "lang": "de"}]
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("id,text,lang\na,first text,en\nb,zweiter Text,de\n", encoding="utf-8")
    parquet_path = tmp_path / "c.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet_path)
    for path in (csv_path, parquet_path):
        documents = list(read_corpus(path))
        assert [(d.id, d.text, d.metadata) for d in documents] == [
            ("a", "first text", {"lang": "en"}),
            ("b", "zweiter Text", {"lang": "de"}),
        ]


def test_duplicates_name_the_first_line_or_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_path = tmp_path / "c.csv"
    csv_path.write_text("id,text\na,x\nb,y\na,z\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"c\.csv:4: duplicate id 'a' \(first on line 2\)"):
        list(read_corpus(csv_path))
    parquet_path = tmp_path / "c.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": 7, "text": "x"}, {"id": 7, "text": "y"}]), parquet_path)
    with pytest.raises(CorpusError, match=r"c\.parquet row 1: duplicate id '7' \(first on row 0\)"):
        list(read_corpus(parquet_path))


def test_unknown_corpus_suffix_is_refused(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"corpora are \.jsonl, \.ndjson, \.csv, \.parquet files"):
        list(read_corpus(path))
