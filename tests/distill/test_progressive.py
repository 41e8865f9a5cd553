"""Progressive ternarization and learnable scales: the blend, the gain's gradient and folding, and runs."""

from __future__ import annotations

import json

import pytest
import torch

from ternembed.config import TernaryConfig
from ternembed.distill.progressive import learn_scales, set_ternary_mix, ternary_mix
from ternembed.distill.run_folder import RUN_CONFIG_FILE
from ternembed.nn import PackedTernaryLinear, TernaryLinear
from ternembed.ternary import dequantize, ternarize

FAST = ("--batch-size", "8", "--no-progress", "--eval-texts", "16", "--save-every", "2")


def _layer() -> TernaryLinear:
    torch.manual_seed(0)
    return TernaryLinear.from_linear(torch.nn.Linear(16, 4), TernaryConfig())


def test_mix_ramps_linearly_then_stays_ternary():
    assert [ternary_mix(step, 10, 0.5) for step in (0, 1, 4, 5, 9)] == [0.0, 0.2, 0.8, 1.0, 1.0]
    assert ternary_mix(0, 10, 0.0) == 1.0


def test_blended_weight_lies_between_latent_and_ternary_with_identity_gradient():
    layer = _layer()
    codes, scales = ternarize(layer.weight.detach(), layer.group_size, layer.threshold)
    ternary = dequantize(codes, scales, layer.group_size)
    set_ternary_mix(layer, 0.25)
    blended = layer.ternary_weight()
    assert torch.allclose(blended, layer.weight + 0.25 * (ternary - layer.weight), atol=1e-6)
    blended.sum().backward()
    assert torch.equal(layer.weight.grad, torch.ones_like(layer.weight))
    set_ternary_mix(layer, 1.0)
    assert torch.allclose(layer.ternary_weight(), ternary, atol=1e-6)


def test_scale_gain_gets_a_gradient_and_is_folded_into_the_packed_scales():
    layer = _layer()
    assert learn_scales(layer) == 1 and layer.scale_gain.shape == (4, 1)
    layer(torch.randn(3, 16)).pow(2).sum().backward()
    assert layer.scale_gain.grad is not None and layer.scale_gain.grad.abs().sum() > 0
    with torch.no_grad():
        layer.scale_gain.copy_(torch.tensor([[0.5], [1.0], [2.0], [1.5]]))
    x = torch.randn(5, 16)
    packed = PackedTernaryLinear.from_ternary_linear(layer, "2bit")
    assert torch.allclose(packed(x), layer(x), atol=1e-5)
    _, plain = ternarize(layer.weight.detach(), layer.group_size, layer.threshold)
    assert torch.allclose(packed.weight_scale, plain * layer.scale_gain.detach())


@pytest.mark.parametrize("options", [("--progressive", "0.5"), ("--learn-scales",)])
def test_a_tiny_run_with_each_method_trains_and_saves_a_working_student(tiny_st_dir, corpus_file, tmp_path, run_cli, options):
    import ternembed

    common = ("--data", corpus_file, "--lr", "1e-3", "--max-steps", "4", *options, *FAST)
    code, err = run_cli("distill", tiny_st_dir, "--out", tmp_path / "whole", *common)
    assert code == 0, err
    arguments = json.loads((tmp_path / "whole" / RUN_CONFIG_FILE).read_text())["arguments"]
    assert arguments["progressive"] == (0.5 if "--progressive" in options else 0.0)
    assert arguments["learn_scales"] == ("--learn-scales" in options)
    embeddings = torch.as_tensor(ternembed.load(tmp_path / "whole", activations="float").encode(["a small test"]))
    assert torch.isfinite(embeddings).all()


def test_progressive_out_of_range_is_one_clear_line(tiny_st_dir, corpus_file, tmp_path, run_cli):
    code, err = run_cli(
        "distill", tiny_st_dir, "--out", tmp_path / "o", "--data", corpus_file, "--progressive", "1.0", *FAST
    )
    assert code == 2 and "progressive must be in [0, 1)" in err
