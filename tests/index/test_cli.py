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
    assert len(lines) == 2 and lines[0].split()[:1] + lines[0].split()[2:3] == ["1", "d5"]
    assert lines[0].endswith("  cats and kittens note number 5")  # the hit's text as a snippet


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


def test_search_a_file_of_queries_prints_snippets_and_json_lines(tiny_st_dir, tmp_path, capsys):
    corpus = tmp_path / "docs.csv"
    long_text = "mountain hiking " + "with a very long description " * 10
    corpus.write_text(f"id,text,topic\nm1,{long_text},outdoor\nc1,cats and kittens,pets\n", encoding="utf-8")
    out = tmp_path / "idx"
    assert main(["index", tiny_st_dir, "--corpus", str(corpus), "--out", str(out), "--backend", "faiss-flat"]) == 0
    queries = tmp_path / "queries.txt"
    queries.write_text("mountain hiking\n\ncats and kittens\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["search", str(out), "--queries", str(queries), "-k", "2"]) == 0
    text = capsys.readouterr().out
    blocks = text.split("\n\n")
    assert len(blocks) == 2 and blocks[0].startswith("query 1: mountain hiking\n")
    assert blocks[1].startswith("query 2: cats and kittens\n")
    snippet_line = next(line for line in text.splitlines() if " m1 " in line)
    assert snippet_line.endswith("…") and len(snippet_line.split("  m1  ")[1]) == 80
    assert main(["search", str(out), "--queries", str(queries), "-k", "1", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["query"] for r in records] == ["mountain hiking", "cats and kittens"]
    assert records[1]["results"][0] == {
        "id": "c1", "score": pytest.approx(records[1]["results"][0]["score"]), "text": "cats and kittens",
        "metadata": {"topic": "pets"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [([], "give either a query text or --queries FILE"),
     (["a query", "--queries", "q.txt"], "give either a query text or --queries FILE"),
     (["--queries", "missing.txt"], "--queries 'missing.txt' does not exist"),
     (["--queries", "empty.txt"], "has no queries")],
)  # fmt: skip
def test_search_query_arguments_are_checked(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    assert main(["search", str(tmp_path), *args]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
