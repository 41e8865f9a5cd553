"""A run that diverges is refused with a clear error instead of saving a NaN student."""

from __future__ import annotations

import math

import pytest
import torch

from tests.distill.test_trainer import FAST


def test_a_diverged_run_saves_nothing_and_names_the_learning_rate(tiny_st_dir, corpus_file, tmp_path, run_cli):
    out = tmp_path / "o"
    code, err = run_cli("distill", tiny_st_dir, "--out", out, "--data", corpus_file, "--lr", "1e30",
                        "--max-steps", "4", *FAST)  # fmt: skip
    assert code == 2 and "training diverged" in err and "lower --lr than 1e+30" in err
    assert not (out / "model.safetensors").exists()


def test_the_check_passes_a_finite_student_and_refuses_nan_weights(tmp_path):
    from ternembed.distill.trainer import DivergedError, _check_not_diverged

    layer = torch.nn.Linear(2, 2)
    _check_not_diverged(layer, {"cosine": 0.9}, tmp_path, 1e-4)
    with pytest.raises(DivergedError, match="held-out cosine"):
        _check_not_diverged(layer, {"cosine": math.nan}, tmp_path, 1e-4)
    with torch.no_grad():
        layer.weight[0, 0] = math.inf
    with pytest.raises(DivergedError, match="weights"):
        _check_not_diverged(layer, {"cosine": 0.9}, tmp_path, 1e-4)
