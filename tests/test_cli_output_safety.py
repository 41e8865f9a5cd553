"""Commands that write a folder refuse to destroy data, fail before the work, and survive a full disk."""

from __future__ import annotations

import errno
import importlib
import os
import stat
from pathlib import Path

import pytest

from ternembed.cli.main import main
from tests.index.conftest import write_jsonl


def _no_space(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture()
def corpus(tmp_path) -> Path:
    return write_jsonl(
        tmp_path / "docs.jsonl", [{"id": f"d{i}", "text": f"note number {i}"} for i in range(20)]
    )


def test_quantize_overwrite_in_a_project_folder_keeps_the_project(tiny_st_dir, tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("keep")
    monkeypatch.chdir(project)
    assert main(["quantize", tiny_st_dir, "--out", ".", "--overwrite", "--no-fidelity"]) == 2
    assert "is not a ternembed model, run or index folder" in _one_error_line(capsys)
    assert (project / "src" / "main.py").read_text() == "keep"


def test_quantize_into_its_own_input_keeps_the_input(tiny_st_dir, capsys):
    before = sorted(path.name for path in Path(tiny_st_dir).iterdir())
    assert main(["quantize", tiny_st_dir, "--out", tiny_st_dir, "--overwrite", "--no-fidelity"]) == 2
    assert "is the input" in _one_error_line(capsys)
    assert main(["quantize", tiny_st_dir, "--out", str(Path(tiny_st_dir).parent), "--overwrite"]) == 2
    assert "contains the input" in _one_error_line(capsys)
    assert sorted(path.name for path in Path(tiny_st_dir).iterdir()) == before


def test_quantize_replaces_its_own_earlier_output(tiny_st_dir, tmp_path, capsys):
    out = tmp_path / "q"
    assert main(["quantize", tiny_st_dir, "--out", str(out), "--no-fidelity"]) == 0
    assert main(["quantize", tiny_st_dir, "--out", str(out), "--no-fidelity", "--storage", "base3"]) == 2
    assert "--overwrite" in _one_error_line(capsys)
    assert (
        main(
            ["quantize", tiny_st_dir, "--out", str(out), "--no-fidelity", "--storage", "base3", "--overwrite"]
        )
        == 0
    )
    assert '"storage": "base3"' in (out / "ternary_config.json").read_text()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["q"]


def test_a_symlink_loop_as_out_is_one_line(tiny_st_dir, tmp_path, capsys):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert main(["quantize", tiny_st_dir, "--out", str(loop), "--no-fidelity"]) == 2
    assert str(loop) in _one_error_line(capsys)


def test_unwritable_outputs_fail_before_the_work(tiny_st_dir, corpus, tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("")
    blocked = str(tmp_path / "file" / "out")

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded before the output was checked")

    monkeypatch.setattr("ternembed.models.load_sentence_transformer", never)
    monkeypatch.setattr("ternembed.index.build.load_model", never)
    monkeypatch.setattr("ternembed.eval.models.load_model", never)
    assert main(["quantize", tiny_st_dir, "--out", blocked]) == 2
    assert "is not a folder" in _one_error_line(capsys)
    assert main(["index", tiny_st_dir, "--corpus", str(corpus), "--out", blocked]) == 2
    assert "is not a folder" in _one_error_line(capsys)
    assert main(["eval", tiny_st_dir, "--out", blocked, "--quick"]) == 2
    assert "is not a folder" in _one_error_line(capsys)


def test_a_full_disk_during_quantize_is_one_line_and_leaves_no_folder(
    tiny_st_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(importlib.import_module("ternembed.io.save"), "_write_weights", _no_space)
    out = tmp_path / "q"
    assert main(["quantize", tiny_st_dir, "--out", str(out), "--no-fidelity"]) == 2
    line = _one_error_line(capsys)
    assert "No space left on device" in line and str(out) in line
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_during_index_is_one_line_and_keeps_the_old_index(tiny_st_dir, corpus, tmp_path, monkeypatch,
                                                                      capsys):  # fmt: skip
    from ternembed.index.backends.faiss_backends import FaissHNSW

    out = tmp_path / "idx"
    assert main(["index", tiny_st_dir, "--corpus", str(corpus), "--out", str(out)]) == 0
    before = (out / "index_config.json").read_text()
    monkeypatch.setattr(FaissHNSW, "save", lambda self, path: _no_space())
    assert main(["index", tiny_st_dir, "--corpus", str(corpus), "--out", str(out)]) == 2
    line = _one_error_line(capsys)
    assert "No space left on device" in line and str(out) in line
    assert (out / "index_config.json").read_text() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["docs.jsonl", "idx"]


def test_a_full_disk_during_distill_keeps_the_last_checkpoint(tiny_st_dir, tmp_path, monkeypatch, capsys):
    from ternembed.distill.checkpoint import load_checkpoint

    checkpoint = importlib.import_module("ternembed.distill.checkpoint")
    texts = tmp_path / "texts.txt"
    texts.write_text("".join(f"a short text number {i}\n" for i in range(60)))
    real, calls = checkpoint.save_file, []

    def fills_up(*args, **kwargs):
        calls.append(1)
        if len(calls) > 2:  # the first checkpoint (two files) fits, the next does not
            _no_space()
        real(*args, **kwargs)

    monkeypatch.setattr(checkpoint, "save_file", fills_up)
    out = tmp_path / "o"
    args = ["distill", tiny_st_dir, "--out", str(out), "--data", str(texts), "--max-steps", "4", "--batch-size",
            "8", "--save-every", "2", "--eval-texts", "0", "--no-progress"]  # fmt: skip
    assert main(args) == 2
    line = _one_error_line(capsys)
    assert "No space left on device" in line and "checkpoint" in line
    assert not out.exists() and load_checkpoint(tmp_path / "o.partial")[2]["step"] == 2
    assert not (tmp_path / "o.partial" / "checkpoint.tmp").exists()


def test_saved_models_and_indexes_follow_the_umask(tiny_st_dir, corpus, tmp_path):
    previous = os.umask(0o022)
    try:
        assert main(["quantize", tiny_st_dir, "--out", str(tmp_path / "q"), "--no-fidelity"]) == 0
        assert main(["index", tiny_st_dir, "--corpus", str(corpus), "--out", str(tmp_path / "idx")]) == 0
    finally:
        os.umask(previous)
    for folder in (tmp_path / "q", tmp_path / "idx"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755
        for path in folder.rglob("*"):
            assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path
