"""The moving average of latent weights: its arithmetic, its checkpoint round trip, a run that uses it."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from ternembed.distill.averaging import LatentEMA, split_checkpoint_state
from ternembed.distill.run_folder import RUN_CONFIG_FILE

FAST = ("--batch-size", "8", "--no-progress", "--eval-texts", "16", "--save-every", "2")


def test_shadow_follows_the_ramped_decay_and_replaces_the_live_weights():
    layer = nn.Linear(3, 2)
    start = layer.weight.detach().clone()
    ema = LatentEMA(layer, decay=0.9)
    with torch.no_grad():
        layer.weight.add_(1.0)
    ema.update(step=0)  # ramp: decay min(0.9, 1/10) = 0.1, so the shadow moves 90% of the way
    assert torch.allclose(ema.shadows["weight"], start + 0.9)
    ema.update(step=1000)  # full decay 0.9: moves 10% of the remaining 0.1
    assert torch.allclose(ema.shadows["weight"], start + 0.91)
    ema.copy_to_module()
    assert torch.allclose(layer.weight, start + 0.91)


def test_checkpoint_state_round_trips_and_a_missing_shadow_is_refused():
    layer = nn.Linear(3, 2)
    ema = LatentEMA(layer, decay=0.5)
    merged = {**layer.state_dict(), **ema.checkpoint_state()}
    own, shadows = split_checkpoint_state(merged)
    assert set(own) == {"weight", "bias"} and set(shadows) == {"weight", "bias"}
    other = LatentEMA(nn.Linear(3, 2), decay=0.5)
    other.restore(shadows)
    assert torch.equal(other.shadows["weight"], ema.shadows["weight"])
    with pytest.raises(ValueError, match="no EMA shadow"):
        other.restore({"weight": shadows["weight"]})


def test_a_run_with_ema_saves_the_averaged_student_and_resumes_identically(
    tiny_st_dir, corpus_file, tmp_path, run_cli, monkeypatch
):
    from ternembed.io import load

    whole, split = tmp_path / "whole", tmp_path / "split"
    common = ("--data", corpus_file, "--lr", "1e-3", "--ema", "0.9", "--max-steps", "4", *FAST)
    code, err = run_cli("distill", tiny_st_dir, "--out", whole, *common)
    assert code == 0, err
    assert json.loads((whole / RUN_CONFIG_FILE).read_text())["arguments"]["ema_decay"] == 0.9

    # The same run interrupted after its step-2 checkpoint, then resumed: the shadows must come back too.
    update = LatentEMA.update

    def interrupt_at_third_step(self, step):
        if step == 2:
            raise KeyboardInterrupt
        update(self, step)

    monkeypatch.setattr(LatentEMA, "update", interrupt_at_third_step)
    code, _ = run_cli("distill", tiny_st_dir, "--out", split, *common)
    assert code == 130 and not split.exists()
    monkeypatch.setattr(LatentEMA, "update", update)
    code, err = run_cli("distill", tiny_st_dir, "--out", split, "--resume", *common)
    assert code == 0 and "from step 2/4" in err, err
    texts = ["a small test", "another sentence here"]
    assert torch.allclose(
        torch.as_tensor(load(whole).encode(texts)), torch.as_tensor(load(split).encode(texts)), atol=1e-6
    )


def test_ema_decay_out_of_range_is_one_clear_line(tiny_st_dir, corpus_file, tmp_path, run_cli):
    code, err = run_cli("distill", tiny_st_dir, "--out", tmp_path / "o", "--data", corpus_file, "--ema", "1.5", *FAST)
    assert code == 2 and "ema_decay must be in [0, 1)" in err
