"""Checkpoints: exact round trip and atomic replacement."""

from __future__ import annotations

import pytest
import torch

from ternembed.distill.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def _optimizer_after_one_step() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    model = torch.nn.Linear(4, 3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    return model, optimizer


def test_round_trip_restores_model_optimizer_and_state(tmp_path):
    model, optimizer = _optimizer_after_one_step()
    save_checkpoint(
        tmp_path, model.state_dict(), optimizer.state_dict(), {"step": 7, "history": [{"a": 1.0}]}
    )
    model_state, optimizer_state, state = load_checkpoint(tmp_path)
    assert state == {"step": 7, "history": [{"a": 1.0}]}
    assert all(torch.equal(model_state[k], v) for k, v in model.state_dict().items())
    fresh = torch.optim.AdamW(torch.nn.Linear(4, 3).parameters(), lr=1e-3)
    fresh.load_state_dict(optimizer_state)
    original = optimizer.state_dict()
    restored = fresh.state_dict()
    assert restored["param_groups"] == original["param_groups"]
    for index, values in original["state"].items():
        for name, value in values.items():
            assert torch.equal(restored["state"][index][name], value)


def test_a_new_checkpoint_replaces_the_old_one_and_an_interrupted_swap_keeps_the_old(tmp_path):
    model, optimizer = _optimizer_after_one_step()
    save_checkpoint(tmp_path, model.state_dict(), optimizer.state_dict(), {"step": 1})
    save_checkpoint(tmp_path, model.state_dict(), optimizer.state_dict(), {"step": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]
    (tmp_path / "checkpoint").rename(tmp_path / "checkpoint.old")  # killed between the two renames
    (tmp_path / "checkpoint.tmp").mkdir()  # and a half-written new one
    assert load_checkpoint(tmp_path)[2] == {"step": 2}


def test_missing_files_raise_and_no_checkpoint_is_none(tmp_path):
    assert load_checkpoint(tmp_path) is None
    (tmp_path / "checkpoint").mkdir()
    with pytest.raises(CheckpointError, match="lacks"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("student.safetensors", lambda data: data[: len(data) // 2]),  # truncated: the disk filled up
        ("optimizer.safetensors", lambda data: b"\x00" * 8 + data[8:]),  # a broken header length
        ("trainer_state.json", lambda data: data[: len(data) // 2]),
        ("trainer_state.json", lambda data: b"[1, 2]"),
    ],
)
def test_a_damaged_checkpoint_file_is_one_error_naming_it(tmp_path, name, damage):
    from ternembed.distill.checkpoint import checkpoint_state

    model, optimizer = _optimizer_after_one_step()
    save_checkpoint(tmp_path, model.state_dict(), optimizer.state_dict(), {"step": 1})
    path = tmp_path / "checkpoint" / name
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match=rf"{name}(: damaged checkpoint| is not valid JSON| must hold a JSON object).*start over with --overwrite"):
        load_checkpoint(tmp_path)
    if name.endswith(".json"):
        with pytest.raises(CheckpointError, match=name):
            checkpoint_state(tmp_path)


def test_resume_from_a_truncated_checkpoint_is_exit_code_2_and_one_line(
    tiny_st_dir, corpus_file, tmp_path, run_cli, monkeypatch
):
    from ternembed.distill import trainer

    out = tmp_path / "run"
    common = ("--data", corpus_file, "--max-steps", "4", "--batch-size", "8", "--no-progress",
              "--eval-texts", "16", "--save-every", "2")  # fmt: skip
    saved = trainer.save_checkpoint

    def die_after_first_checkpoint(folder, *args):
        saved(folder, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "save_checkpoint", die_after_first_checkpoint)
    assert run_cli("distill", tiny_st_dir, "--out", out, *common)[0] == 130
    monkeypatch.setattr(trainer, "save_checkpoint", saved)
    (student,) = tmp_path.glob("**/checkpoint/student.safetensors")
    student.write_bytes(student.read_bytes()[:100])
    code, err = run_cli("distill", tiny_st_dir, "--out", out, "--resume", *common)
    assert code == 2, err
    assert "student.safetensors: damaged checkpoint" in err and "Traceback" not in err


def test_a_checkpoint_with_nan_weights_is_refused_at_resume(tmp_path):
    model, optimizer = _optimizer_after_one_step()
    state = model.state_dict()
    state["weight"][0, 0] = float("nan")
    save_checkpoint(tmp_path, state, optimizer.state_dict(), {"step": 1})
    with pytest.raises(CheckpointError, match=r"student.safetensors: weight holds NaN .*--overwrite and a lower --lr"):
        load_checkpoint(tmp_path)
