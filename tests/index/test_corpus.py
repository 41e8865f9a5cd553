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
        ([], "has no documents"),
        (["", "  "], "has no documents"),
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
