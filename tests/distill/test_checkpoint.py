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
