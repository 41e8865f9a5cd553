"""A run's output folder: a killed --overwrite run resumes (never silently dropped), foreign folders are kept."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from ternembed.distill.run_folder import RUN_CONFIG_FILE

FAST = ("--batch-size", "8", "--no-progress", "--eval-texts", "16", "--save-every", "2", "--max-steps", "4")


def _run_config(out):
    return json.loads((out / RUN_CONFIG_FILE).read_text())


def test_resume_after_a_killed_overwrite_continues_the_new_run(tiny_st_dir, corpus_file, tmp_path, run_cli,
                                                               monkeypatch):  # fmt: skip
    out = tmp_path / "student"
    code, err = run_cli("distill", tiny_st_dir, "--out", out, "--data", corpus_file, "--lr", "1e-3", *FAST)
    assert code == 0, err
    trainer = importlib.import_module("ternembed.distill.trainer")
    real = trainer.save_checkpoint

    def save_then_stop(*args, **kwargs):
        real(*args, **kwargs)
        monkeypatch.setattr(trainer, "save_checkpoint", real)
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "save_checkpoint", save_then_stop)
    new = ("distill", tiny_st_dir, "--out", out, "--data", corpus_file, "--lr", "2e-3", *FAST)
    code, _ = run_cli(*new, "--overwrite")
    assert code == 130 and (out.parent / "student.partial" / "checkpoint").is_dir()
    assert _run_config(out)["arguments"]["lr"] == 1e-3  # the old model is still there

    code, err = run_cli("distill", tiny_st_dir, "--out", out, "--data", corpus_file, "--lr", "5e-3", *FAST,
                        "--resume")  # fmt: skip
    assert code == 2 and "cannot resume" in err and "lr" in err
    assert (out.parent / "student.partial" / "checkpoint").is_dir(), "a refused resume keeps the checkpoint"

    code, err = run_cli(*new, "--resume")
    assert code == 0, err
    assert "resuming" in err and "from step 2/4" in err and "nothing to resume" not in err
    assert _run_config(out)["arguments"]["lr"] == 2e-3
    assert not (out.parent / "student.partial").exists()

    code, err = run_cli(*new, "--resume")
    assert code == 0 and "already a finished run" in err


def test_resume_of_a_finished_run_with_other_settings_is_refused(tiny_st_dir, corpus_file, tmp_path, run_cli):
    out = tmp_path / "student"
    assert run_cli("distill", tiny_st_dir, "--out", out, "--data", corpus_file, *FAST)[0] == 0
    before = (out / RUN_CONFIG_FILE).read_text()
    code, err = run_cli("distill", tiny_st_dir, "--out", out, "--data", corpus_file, *FAST, "--lr", "9e-3",
                        "--resume")  # fmt: skip
    assert code == 2 and "finished run with other settings" in err and "--overwrite" in err
    assert (out / RUN_CONFIG_FILE).read_text() == before


def test_overwrite_never_replaces_a_folder_ternembed_did_not_write(
    tiny_st_dir, corpus_file, tmp_path, run_cli
):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('keep me')\n")
    code, err = run_cli("distill", tiny_st_dir, "--out", project, "--data", corpus_file, *FAST, "--overwrite")
    assert code == 2 and "is not a ternembed model, run or index folder" in err
    assert (project / "src" / "main.py").read_text() == "print('keep me')\n"


def test_output_may_not_hold_the_teacher_or_the_data(tiny_st_dir, corpus_file, tmp_path, run_cli):
    code, err = run_cli(
        "distill", tiny_st_dir, "--out", tiny_st_dir, "--data", corpus_file, *FAST, "--overwrite"
    )
    assert code == 2 and "is the input" in err and err.count("\n") == 1
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "texts.txt").write_text(Path(corpus_file).read_text())
    code, err = run_cli("distill", tiny_st_dir, "--out", tmp_path, "--data", folder / "texts.txt", *FAST,
                        "--overwrite")  # fmt: skip
    assert code == 2 and "contains the input" in err


def test_a_partial_folder_with_foreign_files_is_kept(tiny_st_dir, corpus_file, tmp_path, run_cli):
    (tmp_path / "o.partial").mkdir()
    (tmp_path / "o.partial" / "notes.txt").write_text("mine")
    code, err = run_cli(
        "distill", tiny_st_dir, "--out", tmp_path / "o", "--data", corpus_file, *FAST, "--overwrite"
    )
    assert code == 2 and "not a distillation checkpoint" in err
    assert (tmp_path / "o.partial" / "notes.txt").read_text() == "mine"
