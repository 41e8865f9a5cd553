"""The one output-folder writer: what it may replace, atomic swaps that survive a kill, permissions."""

from __future__ import annotations

import errno
import os
import signal
import stat
from pathlib import Path

import pytest

from ternembed.io.errors import FolderNotEmptyError
from ternembed.io.output_folder import (
    ForeignFolderError,
    OutputFolderError,
    check_output_folder,
    exchange,
    recover_output_folder,
    write_output_folder,
)

MARKER = "index_config.json"


def _write(text: str):
    def write(folder: Path) -> None:
        (folder / MARKER).write_text(text)
        (folder / "sub").mkdir()
        (folder / "sub" / "data.bin").write_bytes(b"x")

    return write


def _hidden(parent: Path) -> list[str]:
    return sorted(entry.name for entry in parent.iterdir() if entry.name.startswith("."))


def test_replaces_an_empty_or_own_folder_and_never_a_foreign_one(tmp_path):
    (tmp_path / "empty").mkdir()
    write_output_folder(tmp_path / "empty", _write("new"), overwrite=False)
    assert (tmp_path / "empty" / MARKER).read_text() == "new"
    with pytest.raises(FolderNotEmptyError, match="--overwrite"):
        write_output_folder(tmp_path / "empty", _write("newer"), overwrite=False)
    write_output_folder(tmp_path / "empty", _write("newer"), overwrite=True)
    assert (tmp_path / "empty" / MARKER).read_text() == "newer"

    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "code.py").write_text("keep")
    with pytest.raises(ForeignFolderError, match="is not a ternembed model, run or index folder"):
        write_output_folder(project, _write("new"), overwrite=True)
    assert (project / "src" / "code.py").read_text() == "keep"
    (tmp_path / "file").write_text("keep")
    with pytest.raises(OutputFolderError, match="is not a folder"):
        check_output_folder(tmp_path / "file", overwrite=True)
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize(
    ("out", "source", "relation"),
    [("model", "model", "is"), ("model/inner", "model", "lies inside"), (".", "model", "contains")],
)
def test_refuses_an_output_that_is_inside_or_holds_the_input(tmp_path, out, source, relation):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    with pytest.raises(OutputFolderError, match=f"{relation} the input"):
        check_output_folder(tmp_path / out, overwrite=True, inputs=[tmp_path / source, "not-a-local-path"])


def test_a_symlink_loop_is_one_clear_error(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(OutputFolderError, match="cannot be resolved") as caught:
        check_output_folder(loop, overwrite=True)
    assert "\n" not in str(caught.value)


def test_an_unwritable_place_fails_before_any_work(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputFolderError, match="is not a folder"):
        check_output_folder(tmp_path / "file" / "out", overwrite=False)
    monkeypatch.setattr("ternembed.io.output_folder.os.access", lambda path, mode: False)
    with pytest.raises(OutputFolderError, match="no write permission"):
        check_output_folder(tmp_path / "deep" / "out", overwrite=False)


def test_a_full_disk_is_one_error_naming_the_folder_and_leaves_nothing(tmp_path):
    target = tmp_path / "idx"
    write_output_folder(target, _write("old"), overwrite=True)

    def full(folder: Path) -> None:
        (folder / MARKER).write_text("new")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "vectors.npy"))

    with pytest.raises(OutputFolderError, match="No space left on device") as caught:
        write_output_folder(target, full, overwrite=True)
    assert str(target) in str(caught.value) and "\n" not in str(caught.value)
    assert (target / MARKER).read_text() == "old" and _hidden(tmp_path) == []


def test_exchange_swaps_two_folders(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "from_a").write_text("")
    (tmp_path / "b").mkdir()
    if not exchange(tmp_path / "a", tmp_path / "b"):
        pytest.skip("this file system has no RENAME_EXCHANGE (the rename fallback is tested below)")
    assert (tmp_path / "b" / "from_a").exists() and not (tmp_path / "a" / "from_a").exists()


def _write_and_kill(target: Path, mode: str) -> None:
    """In a forked child: replace ``target`` and die by SIGKILL at the step ``mode`` names."""
    import ternembed.io.output_folder as output_folder

    real_rename = os.rename

    def kill(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def rename_then_kill(source: Path, destination: Path) -> None:
        real_rename(source, destination)
        kill()

    def write(folder: Path) -> None:
        (folder / MARKER).write_text("new")
        if mode == "while-writing":
            kill()

    if mode == "between-renames":  # the fallback: old folder moved aside, the new one not yet in place
        output_folder.exchange = lambda first, second: False
        output_folder.os.rename = rename_then_kill
    elif mode == "after-exchange":  # swapped, the previous folder not yet removed
        output_folder.shutil.rmtree = kill
    output_folder.write_output_folder(target, write, overwrite=True)


@pytest.mark.parametrize(
    ("mode", "after_kill", "after_recovery"),
    [("while-writing", "old", "old"), ("between-renames", None, "old"), ("after-exchange", "new", "new")],
)
def test_a_kill_at_any_step_leaves_or_restores_a_whole_folder(tmp_path, mode, after_kill, after_recovery):
    target = tmp_path / "idx"
    write_output_folder(target, _write("old"), overwrite=True)
    pid = os.fork()
    if pid == 0:
        try:
            _write_and_kill(target, mode)
        finally:
            os._exit(1)  # only reached when the kill did not happen
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    seen = (target / MARKER).read_text() if target.exists() else None
    assert seen == after_kill and _hidden(tmp_path) != []
    recover_output_folder(target)  # what the next start does
    assert (target / MARKER).read_text() == after_recovery and _hidden(tmp_path) == []
    write_output_folder(target, _write("next"), overwrite=True)
    assert (target / MARKER).read_text() == "next"


def test_folders_and_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        target = write_output_folder(tmp_path / "idx", _write("new"), overwrite=True)
        write_output_folder(target, _write("again"), overwrite=True)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert stat.S_IMODE((target / "sub").stat().st_mode) == 0o755
    assert stat.S_IMODE((target / MARKER).stat().st_mode) == 0o644
