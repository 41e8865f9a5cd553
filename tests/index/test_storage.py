"""Atomic index folders: a failed write keeps the old index; other folders are never overwritten."""

from __future__ import annotations

import pytest

from ternembed.index.storage import CONFIG_FILE, write_folder_atomically


def test_replaces_an_index_only_after_a_complete_write(tmp_path):
    target = tmp_path / "idx"
    write_folder_atomically(target, lambda folder: (folder / CONFIG_FILE).write_text("old"))

    def failing(folder):
        (folder / CONFIG_FILE).write_text("new")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_folder_atomically(target, failing)
    assert (target / CONFIG_FILE).read_text() == "old"
    write_folder_atomically(target, lambda folder: (folder / CONFIG_FILE).write_text("new"))
    assert (target / CONFIG_FILE).read_text() == "new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["idx"]


def test_refuses_to_overwrite_a_folder_that_is_not_an_index(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="is not a ternembed model, run or index folder"):
        write_folder_atomically(tmp_path / "notes", lambda folder: None)
    assert (tmp_path / "notes" / "keep.txt").read_text() == "precious"
