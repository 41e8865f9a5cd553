"""Damaged or edited index folders: one-line IndexFormatError naming the file, never a crash.

A saved folder records the size and sha256 of its files in index_config.json; load checks them before
faiss or usearch reads anything (usearch may crash the process on a file damaged inside its graph).
Folders written before those records existed still load, with the structural checks only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from ternembed.cli.main import main
from ternembed.index import BACKEND_NAMES, IndexFormatError, SearchIndex
from ternembed.index.backends import backend_class
from ternembed.index.storage import CONFIG_FILE, FILES_KEY, IDS_FILE, sha256_of
from tests.index.conftest import synthetic_index

PARAMS = {"faiss-ivf": {"nlist": 4}}


def _saved(folder: Path, backend: str, synthetic, precision: str = "float32", **extra) -> Path:
    index = synthetic_index(backend, precision, **PARAMS.get(backend, {}), **extra)
    index.add([f"doc{i}" for i in range(300)], synthetic["corpus"][:300])
    index.save(folder)
    return folder


def _drop_checksums(folder: Path) -> None:
    """Make ``folder`` look like one written before checksums were recorded."""
    config = json.loads((folder / CONFIG_FILE).read_text())
    del config[FILES_KEY]
    (folder / CONFIG_FILE).write_text(json.dumps(config))


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "deleted":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "random":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, len(data), dtype=np.uint8).tobytes())
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "flipped":  # same size: only the checksum can tell
        middle = bytearray(data)
        for position in range(len(data) // 3, 2 * len(data) // 3, 97):
            middle[position] ^= 0x5A
        path.write_bytes(bytes(middle))


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("how", ["deleted", "truncated", "random", "empty", "flipped"])
def test_damaged_structure_file_is_named(backend, how, synthetic, tmp_path):
    folder = _saved(tmp_path / "idx", backend, synthetic)
    structure = folder / backend_class(backend).file_name
    _damage(structure, how)
    with pytest.raises(IndexFormatError, match="ternembed index") as error:
        SearchIndex.load(folder, with_model=False)
    message = str(error.value)
    assert str(structure) in message and "\n" not in message


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("how", ["deleted", "truncated", "random", "empty"])
def test_damaged_structure_without_checksums_is_still_an_error(backend, how, synthetic, tmp_path):
    folder = _saved(tmp_path / "idx", backend, synthetic)
    _drop_checksums(folder)
    structure = folder / backend_class(backend).file_name
    _damage(structure, how)
    with pytest.raises(IndexFormatError, match="ternembed index") as error:
        SearchIndex.load(folder, with_model=False)
    assert str(structure) in str(error.value)


@pytest.mark.parametrize("backend", ["faiss-hnsw", "usearch"])
def test_structure_file_of_another_index_kind_is_refused(backend, synthetic, tmp_path):
    folder = _saved(tmp_path / "idx", backend, synthetic)
    other = _saved(tmp_path / "other", backend, synthetic, precision="binary")
    _drop_checksums(folder)
    name = backend_class(backend).file_name
    (folder / name).write_bytes((other / name).read_bytes())
    with pytest.raises(IndexFormatError, match="damaged"):
        SearchIndex.load(folder, with_model=False)


def test_swapped_id_lines_fail_the_checksum(synthetic, tmp_path):
    folder = _saved(tmp_path / "idx", "faiss-hnsw", synthetic)
    lines = (folder / IDS_FILE).read_text().splitlines()
    lines[0], lines[1] = lines[1], lines[0]
    (folder / IDS_FILE).write_text("\n".join(lines) + "\n")
    with pytest.raises(IndexFormatError) as error:
        SearchIndex.load(folder, with_model=False)
    message = str(error.value)
    assert str(folder / IDS_FILE) in message and "sha256" in message and "`ternembed index`" in message


def test_folders_without_checksums_load_unchecked(synthetic, tmp_path):
    folder = _saved(tmp_path / "idx", "faiss-flat", synthetic)
    _drop_checksums(folder)
    lines = (folder / IDS_FILE).read_text().splitlines()
    lines[0], lines[1] = lines[1], lines[0]
    (folder / IDS_FILE).write_text("\n".join(lines) + "\n")
    index = SearchIndex.load(folder, with_model=False)
    assert index.doc_ids[:2] == ["doc1", "doc0"] and len(index) == 300


def test_recorded_files_match_what_was_saved(synthetic, tmp_path):
    folder = _saved(
        tmp_path / "idx", "usearch", synthetic, precision="binary", rescore=10, rescore_from="int8"
    )
    files = json.loads((folder / CONFIG_FILE).read_text())[FILES_KEY]
    assert set(files) == {
        "index.usearch",
        IDS_FILE,
        "payloads.jsonl",
        "rescore_vectors.npy",
        "rescore_ranges.npy",
    }
    for name, record in files.items():
        assert record["bytes"] == (folder / name).stat().st_size
        assert record.get("sha256", sha256_of(folder / name)) == sha256_of(folder / name)
    assert "sha256" not in files["rescore_vectors.npy"]  # memory-mapped: sized, not read whole
    with open(folder / "rescore_vectors.npy", "ab") as file:
        file.write(b"\0" * 16)
    with pytest.raises(IndexFormatError, match="rescore_vectors.npy is .* bytes"):
        SearchIndex.load(folder, with_model=False)


@pytest.mark.parametrize(
    ("line", "problem"),
    [("{not json", "not a JSON string id"), ("17", "not a JSON string id"), ('"doc5"', "twice")],
)
def test_bad_id_lines_without_checksums_name_the_line(line, problem, synthetic, tmp_path):
    folder = _saved(tmp_path / "idx", "faiss-flat", synthetic)
    _drop_checksums(folder)
    lines = (folder / IDS_FILE).read_text().splitlines()
    lines[3] = line
    (folder / IDS_FILE).write_text("\n".join(lines) + "\n")
    with pytest.raises(IndexFormatError, match=problem) as error:
        SearchIndex.load(folder, with_model=False)
    assert IDS_FILE in str(error.value)


@pytest.mark.parametrize(
    "edit",
    [
        lambda config: config.pop("dimension"),
        lambda config: config.update(dimension="32"),
        lambda config: config.update(model=[]),
        lambda config: config.update(model={"unknown": 1}),
        lambda config: config.update(build_params={"m": "x"}),
        lambda config: config.update(files={"../etc": {"bytes": 1}}),
    ],
    ids=["missing-key", "wrong-type", "model-not-object", "model-fields", "build-params", "files-path"],
)
def test_edited_config_is_an_index_format_error(edit, synthetic, tmp_path):
    folder = _saved(tmp_path / "idx", "faiss-hnsw", synthetic)
    config = json.loads((folder / CONFIG_FILE).read_text())
    edit(config)
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(IndexFormatError):
        SearchIndex.load(folder, with_model=False)


def test_config_that_is_not_json_is_named(synthetic, tmp_path):
    folder = _saved(tmp_path / "idx", "faiss-hnsw", synthetic)
    (folder / CONFIG_FILE).write_text('{"format_version": 1,')
    with pytest.raises(IndexFormatError, match=f"{CONFIG_FILE} is not valid JSON"):
        SearchIndex.load(folder, with_model=False)


@pytest.mark.parametrize("backend", ["faiss-hnsw", "usearch"])
@pytest.mark.parametrize("how", ["deleted", "truncated", "random", "flipped"])
def test_search_cli_on_a_damaged_index_is_one_line_exit_2(
    backend, how, tiny_st_dir, tiny_corpus, tmp_path, capsys
):
    out = tmp_path / "idx"
    assert (
        main(["index", tiny_st_dir, "--corpus", str(tiny_corpus), "--out", str(out), "--backend", backend])
        == 0
    )
    structure = out / backend_class(backend).file_name
    _damage(structure, how)
    capsys.readouterr()
    os.environ.pop("TERNEMBED_DEBUG", None)
    assert main(["search", str(out), "cats"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and str(structure) in lines[0] and "Traceback" not in captured.err
    assert captured.out == ""
