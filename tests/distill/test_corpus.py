"""Corpus reading: every input format, sampling, and clear errors for bad input."""

from __future__ import annotations

import json

import pytest

from ternembed.distill.corpus import CorpusError, corpus_fingerprint, load_texts

TEXTS = ["a cat sat on the mat", "dogs bark at night", "the sun is a star"]


def test_txt_reads_non_empty_lines_and_drops_duplicates(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(
        "a cat sat on the mat\n\n  \ndogs bark at night\na cat sat on the mat\n", encoding="utf-8"
    )
    assert load_texts([path]) == TEXTS[:2]


def test_jsonl_csv_parquet_and_folder(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "a.jsonl").write_text(
        "".join(json.dumps({"body": t, "id": i}) + "\n" for i, t in enumerate(TEXTS))
    )
    (tmp_path / "b.csv").write_text('id,body\n1,csv text one\n2,"csv, text two"\n')
    pq.write_table(pa.table({"body": ["parquet text"], "n": [1]}), tmp_path / "c.parquet")
    (tmp_path / "ignored.md").write_text("not read")
    texts = load_texts([tmp_path], text_field="body")
    assert texts == [*TEXTS, "csv text one", "csv, text two", "parquet text"]


def test_saved_datasets_folder(tmp_path):
    import datasets

    datasets.Dataset.from_dict({"sentence": TEXTS}).save_to_disk(str(tmp_path / "ds"))
    assert load_texts([tmp_path / "ds"], text_field="sentence") == TEXTS


def test_max_texts_is_a_seeded_sample(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(f"text {i}" for i in range(50)))
    first = load_texts([path], max_texts=10, seed=1)
    assert len(first) == 10 and first == load_texts([path], max_texts=10, seed=1)
    assert first != load_texts([path], max_texts=10, seed=2)
    assert corpus_fingerprint(first) != corpus_fingerprint(first[::-1])


def test_default_corpus_is_the_general_corpus_built_once_and_cached(tmp_path, monkeypatch):
    from ternembed.data import general_corpus

    texts = [f"text number {i}" for i in range(60)]
    builds = []

    def build(max_texts=None, seed=0):
        builds.append(max_texts)
        return texts, general_corpus.CorpusReport(sources={"titles": len(texts)})

    monkeypatch.setenv("TERNEMBED_CACHE", str(tmp_path))
    monkeypatch.setattr(general_corpus, "build", build)
    first = load_texts(None, max_texts=5, seed=3)
    assert load_texts(None, max_texts=5, seed=3) == first and builds == [None]
    cached = tmp_path / "general-corpus-v1.txt"
    assert first == load_texts([cached], max_texts=5, seed=3)  # the default is exactly --data CACHED
    manifest = json.loads(cached.with_suffix(".json").read_text())
    assert manifest["texts"] == 60 and manifest["fingerprint"] == corpus_fingerprint(texts)


def test_default_corpus_without_sources_says_what_to_install(tmp_path, monkeypatch):
    from ternembed.data import general_corpus

    monkeypatch.setenv("TERNEMBED_CACHE", str(tmp_path))
    monkeypatch.setattr(
        general_corpus, "build", lambda max_texts=None, seed=0: ([], general_corpus.CorpusReport())
    )
    with pytest.raises(CorpusError, match="wordnet-base, manpages and linux-doc"):
        load_texts(None)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", "\n  \n", "no non-empty texts"),
        ("bad.txt", b"\xff\xfe\xfa not utf-8", "cannot read corpus file"),
        ("bad.parquet", b"not a parquet file", "cannot read corpus file"),
        ("bad.jsonl", "{not json\n", "not valid JSON"),
        ("a.pdf", "x", "must end in"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    with pytest.raises(CorpusError, match=message):
        load_texts([path])


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_texts([tmp_path / "nope.txt"])
    with pytest.raises(CorpusError, match="holds no"):
        load_texts([tmp_path])


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet", "dataset"])
def test_missing_text_field_names_the_available_ones(tmp_path, suffix):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / f"data{suffix}"
    if suffix == ".jsonl":
        path.write_text(json.dumps({"body": "x"}) + "\n")
    elif suffix == ".csv":
        path.write_text("body\nx\n")
    elif suffix == ".parquet":
        pq.write_table(pa.table({"body": ["x"]}), path)
    else:
        datasets.Dataset.from_dict({"body": ["x"]}).save_to_disk(str(path))
    with pytest.raises(CorpusError, match=r"no (field|column) 'text'.*body.*--text-field"):
        load_texts([path], text_field="text")
