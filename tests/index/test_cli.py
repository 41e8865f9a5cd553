"""`ternembed index` + `ternembed search` on the tiny model, and their one-line errors."""

from __future__ import annotations

import json

import pytest

from ternembed.cli.main import main
from tests.index.conftest import write_jsonl


def test_index_then_search_json(tiny_st_dir, tiny_corpus, tmp_path, capsys):
    out = tmp_path / "idx"
    assert (
        main(["index", tiny_st_dir, "--corpus", str(tiny_corpus), "--out", str(out), "--batch-size", "8"])
        == 0
    )
    assert "indexed 40 documents" in capsys.readouterr().out
    assert main(["search", str(out), "mountain hiking note number 7", "-k", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["query"] == "mountain hiking note number 7" and len(result["results"]) == 3
    assert result["results"][0]["id"] == "d7"


def test_index_binary_usearch_with_options_then_plain_search(tiny_st_dir, tiny_corpus, tmp_path, capsys):
    out = tmp_path / "idx"
    args = ["index", tiny_st_dir, "--corpus", str(tiny_corpus), "--out", str(out), "--backend", "usearch"]
    args += [
        "--precision",
        "binary",
        "--rescore",
        "20",
        "--rescore-from",
        "float32",
        "--m",
        "8",
        "--ef-search",
        "32",
    ]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["search", str(out), "cats and kittens note number 5", "-k", "2", "--ef-search", "16"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].split()[0] == "1" and lines[0].split()[-1] == "d5"


def test_bad_corpus_is_one_clear_line(tiny_st_dir, tmp_path, capsys):
    corpus = write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    assert main(["index", tiny_st_dir, "--corpus", str(corpus), "--out", str(tmp_path / "idx")]) == 2
    error = capsys.readouterr().err
    assert "docs.jsonl:2: duplicate id 'a' (first on line 1)" in error and "Traceback" not in error
    assert not (tmp_path / "idx").exists()


def test_search_with_another_model_is_refused(tiny_st_dir, minilm_dir, tiny_corpus, tmp_path, capsys):
    out = tmp_path / "idx"
    assert main(["index", tiny_st_dir, "--corpus", str(tiny_corpus), "--out", str(out)]) == 0
    assert main(["search", str(out), "query", "--model", minilm_dir]) == 2
    assert "384-dimensional embeddings but the index was built with 32" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--rescore", "-5"], "--rescore must be at least 0"), (["-k", "0"], "-k must be at least 1"),
     (["--ef-search", "0"], "--ef-search must be at least 1")],
)  # fmt: skip
def test_search_refuses_out_of_range_numbers(flags, message, tmp_path, capsys):
    assert main(["search", str(tmp_path), "a query", *flags]) == 2
    assert message in capsys.readouterr().err


def test_text_output_quotes_ids_that_could_forge_lines():
    from ternembed.cli.search import printable_id

    assert printable_id("doc-7") == "doc-7"
    assert printable_id("line\nbreak") == '"line\\nbreak"' and printable_id(" padded") == '" padded"'
