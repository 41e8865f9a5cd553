"""`ternembed index --backend chroma|lancedb|qdrant`: the collection written, refusals and one-line errors."""

from __future__ import annotations

import sys

import lancedb
import pytest
from qdrant_client import QdrantClient

from ternembed.cli.main import main
from ternembed.integrations import chroma
from tests.index.conftest import write_jsonl

QUERY = "mountain hiking note number 7"


def _index(model_dir, corpus, backend, out, *extra):
    return main(
        ["index", model_dir, "--corpus", str(corpus), "--backend", backend, "--out", str(out), *extra]
    )


def _top_id(backend, out, collection, model_dir):
    if backend == "chroma":
        stored = chroma.persistent_client(out).get_collection(collection)  # its function from the config
        return stored.query(query_texts=[QUERY], n_results=1)["ids"][0][0], stored.count()
    if backend == "lancedb":
        table = lancedb.connect(out).open_table(collection)
        return table.search(QUERY).limit(1).to_list()[0]["id"], table.count_rows()
    from ternembed.integrations.qdrant import TernembedQdrant

    client = QdrantClient(path=str(out))
    try:
        store = TernembedQdrant(client, collection, model_dir)
        return store.search(QUERY, limit=1)[0].payload["id"], client.count(collection).count
    finally:
        client.close()


@pytest.mark.parametrize("backend", ["chroma", "lancedb", "qdrant"])
def test_index_writes_a_searchable_collection(backend, tiny_ternary_dir, corpus_file, tmp_path, capsys):
    out = tmp_path / "db"
    assert (
        _index(tiny_ternary_dir, corpus_file, backend, out, "--collection", "notes", "--batch-size", "8") == 0
    )
    line = capsys.readouterr().out.strip()
    kind = "table" if backend == "lancedb" else "collection"
    assert line.startswith(f"indexed 40 documents into {backend} {kind} 'notes' at {out} in ")
    assert line.endswith(": 32 dims, float32")
    assert _top_id(backend, out, "notes", tiny_ternary_dir) == ("d7", 40)


@pytest.mark.parametrize("backend", ["chroma", "lancedb", "qdrant"])
def test_existing_collection_is_refused_then_overwritten(
    backend, tiny_ternary_dir, corpus_file, tmp_path, capsys
):
    out = tmp_path / "db"
    assert _index(tiny_ternary_dir, corpus_file, backend, out) == 0
    smaller = write_jsonl(tmp_path / "small.jsonl", [{"id": "only", "text": "a single note"}])
    assert _index(tiny_ternary_dir, smaller, backend, out) == 2
    error = capsys.readouterr().err
    assert f"'documents' already exists in {out}; pass --overwrite" in error and "Traceback" not in error
    assert _index(tiny_ternary_dir, smaller, backend, out, "--overwrite") == 0
    assert "indexed 1 documents" in capsys.readouterr().out
    assert _count(backend, out) == 1


def _count(backend, out):
    if backend == "chroma":
        client = chroma.persistent_client(out)
        assert [item.name for item in client.list_collections()] == ["documents"]  # no staging left
        return client.get_collection("documents").count()
    if backend == "lancedb":
        return lancedb.connect(out).open_table("documents").count_rows()
    client = QdrantClient(path=str(out))
    try:
        assert [item.name for item in client.get_collections().collections] == ["documents"]
        return client.count("documents").count
    finally:
        client.close()


def test_lancedb_int8_through_the_cli(tiny_ternary_dir, corpus_file, tmp_path, capsys):
    out = tmp_path / "db"
    assert _index(tiny_ternary_dir, corpus_file, "lancedb", out, "--precision", "int8") == 0
    assert capsys.readouterr().out.strip().endswith("32 dims, int8")
    table = lancedb.connect(out).open_table("documents")
    assert table.list_indices()[0].index_type == "IvfSq"
    assert table.search(QUERY).limit(1).to_list()[0]["id"] == "d7"


@pytest.mark.parametrize("backend", ["chroma", "qdrant", "lancedb"])
def test_a_bad_corpus_fails_before_the_database_is_touched(backend, tiny_ternary_dir, tmp_path, capsys):
    corpus = write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    assert _index(tiny_ternary_dir, corpus, backend, tmp_path / "db") == 2
    assert "docs.jsonl:2: duplicate id 'a' (first on line 1)" in capsys.readouterr().err
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "chroma", "--m", "8"], "--m applies to the faiss and usearch backends, not to chroma"),
        (
            ["--backend", "qdrant", "--rescore-from", "int8"],
            "--rescore-from applies to the faiss and usearch",
        ),
        (["--backend", "qdrant", "--precision", "int8"], "qdrant stores precision float32 here, not 'int8'"),
        (["--backend", "lancedb", "--precision", "binary"], "lancedb stores precision float32 or int8 here"),
        (["--backend", "chroma", "--out", "http://localhost:8000"], "chroma writes a local folder here"),
        (["--collection", "x"], "--collection and --overwrite apply to the chroma, lancedb, qdrant backends"),
    ],
)
def test_option_mistakes_are_one_line(args, message, tiny_ternary_dir, corpus_file, tmp_path, capsys):
    assert (
        main(["index", tiny_ternary_dir, "--corpus", str(corpus_file), "--out", str(tmp_path / "o"), *args])
        == 2
    )
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1


def test_a_folder_of_something_else_is_refused(tiny_ternary_dir, corpus_file, tmp_path, capsys):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert _index(tiny_ternary_dir, corpus_file, "lancedb", other) == 2
    assert "is a non-empty folder that is not a lancedb database" in capsys.readouterr().err
    assert [path.name for path in other.iterdir()] == ["notes.txt"]


def test_missing_database_package_names_what_to_install(
    tiny_ternary_dir, corpus_file, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "qdrant_client", None)  # import qdrant_client now raises ImportError
    monkeypatch.delitem(sys.modules, "ternembed.integrations.qdrant")
    assert _index(tiny_ternary_dir, corpus_file, "qdrant", tmp_path / "db") == 2
    error = capsys.readouterr().err
    assert "needs the 'qdrant-client' package" in error and "pip install ternembed[integrations]" in error
    assert len(error.strip().splitlines()) == 1 and not (tmp_path / "db").exists()


@pytest.mark.parametrize("backend", ["chroma", "lancedb", "qdrant"])
def test_a_failed_overwrite_keeps_the_old_collection(
    backend, tiny_ternary_dir, corpus_file, tmp_path, monkeypatch
):
    from ternembed.integrations.common import TextEncoder
    from ternembed.integrations.ingest import write_corpus

    out = tmp_path / "db"
    write_corpus(tiny_ternary_dir, corpus_file, backend, out, show_progress=False)
    encode = TextEncoder.encode

    def fail_on_documents(self, texts, kind="document"):
        if kind == "document":
            raise RuntimeError("encoder crashed")
        return encode(self, texts, kind)

    monkeypatch.setattr(TextEncoder, "encode", fail_on_documents)
    with pytest.raises(RuntimeError, match="encoder crashed"):
        write_corpus(tiny_ternary_dir, corpus_file, backend, out, overwrite=True, show_progress=False)
    monkeypatch.setattr(TextEncoder, "encode", encode)
    assert _count(backend, out) == 40  # and no staging collection is left behind


def test_a_failed_new_qdrant_collection_is_removed(tiny_ternary_dir, corpus_file, tmp_path, monkeypatch):
    from ternembed.integrations.common import TextEncoder
    from ternembed.integrations.ingest import write_corpus

    monkeypatch.setattr(TextEncoder, "encode", lambda self, texts, kind="document": 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_corpus(tiny_ternary_dir, corpus_file, "qdrant", tmp_path / "db", show_progress=False)
    client = QdrantClient(path=str(tmp_path / "db"))
    assert client.get_collections().collections == []
    client.close()


def test_an_unreachable_qdrant_server_is_one_line(tiny_ternary_dir, corpus_file, capsys):
    assert _index(tiny_ternary_dir, corpus_file, "qdrant", "http://127.0.0.1:1") == 2
    error = capsys.readouterr().err
    assert (
        "cannot reach the Qdrant server at http://127.0.0.1:1" in error
        and len(error.strip().splitlines()) == 1
    )


def test_qdrant_keeps_the_corpus_fields_as_payload_and_filters_on_them(tiny_ternary_dir, tmp_path):
    from qdrant_client import models

    from ternembed.integrations.qdrant import TernembedQdrant

    corpus = tmp_path / "tagged.jsonl"
    rows = [{"id": f"t{i}", "text": f"note {i} about hiking", "lang": "en" if i % 2 else "de"} for i in range(10)]
    write_jsonl(corpus, rows)
    out = tmp_path / "db"
    assert _index(tiny_ternary_dir, corpus, "qdrant", out, "--collection", "tagged") == 0
    client = QdrantClient(path=str(out))
    try:
        only_de = models.Filter(must=[models.FieldCondition(key="lang", match=models.MatchValue(value="de"))])
        hits = TernembedQdrant(client, "tagged", tiny_ternary_dir).search("hiking", limit=10, query_filter=only_de)
    finally:
        client.close()
    assert sorted(hit.payload["id"] for hit in hits) == [f"t{i}" for i in range(0, 10, 2)]
    assert all(hit.payload["lang"] == "de" and hit.payload["text"].startswith("note ") for hit in hits)


def test_chroma_keeps_the_corpus_fields_as_metadata_and_filters_on_them(tiny_ternary_dir, tmp_path):
    corpus = tmp_path / "tagged.jsonl"
    rows = [{"id": f"t{i}", "text": f"note {i} about hiking", "lang": "en" if i % 2 else "de", "rank": i,
             "tags": ["a", "b"]} for i in range(10)]  # fmt: skip
    write_jsonl(corpus, rows + [{"id": "bare", "text": "no fields at all"}])
    out = tmp_path / "db"
    assert _index(tiny_ternary_dir, corpus, "chroma", out, "--collection", "tagged") == 0
    collection = chroma.persistent_client(str(out)).get_collection(
        "tagged", embedding_function=chroma.TernembedEmbeddingFunction(tiny_ternary_dir)
    )
    hits = collection.query(query_texts=["hiking"], n_results=10, where={"lang": "de"})
    assert sorted(hits["ids"][0]) == [f"t{i}" for i in range(0, 10, 2)]
    assert {m["lang"] for m in hits["metadatas"][0]} == {"de"} and hits["metadatas"][0][0]["tags"] == '["a", "b"]'
    assert collection.get(ids=["t3"], include=["metadatas"])["metadatas"][0] == {"lang": "en", "rank": 3,
                                                                                    "tags": '["a", "b"]'}  # fmt: skip
    assert collection.get(ids=["bare"], include=["metadatas"])["metadatas"][0] in (None, {})
