"""The ternarization rules on hand-made weights, scale granularities, and the straight-through gradient."""

from __future__ import annotations

import pytest
import torch

from ternembed.config import ConfigError, TernaryConfig, parse_granularity
from ternembed.nn import TernaryLinear
from ternembed.ternary import (
    SCALE_DTYPE,
    dequantize,
    expand_scales,
    fake_quantize_activations_int8,
    fake_ternarize,
    quantize_activations_int8,
    ternarize,
)

# mean |w| = 0.9: the paper and "optimal" keep |w| >= 0.9, absmean keeps |w| >= 0.45
ROW = [1.0, -2.0, 0.5, 0.1]


def as_scale(value: float) -> float:
    return torch.tensor(value).to(SCALE_DTYPE).float().item()


@pytest.mark.parametrize(
    ("threshold", "codes", "scale"),
    [
        ("paper", [1, -1, 0, 0], 1.8),
        ("absmean", [1, -1, 1, 0], 0.9),
        ("optimal", [1, -1, 0, 0], 1.5),
    ],
)
def test_rules_on_a_hand_made_row(threshold, codes, scale):
    got_codes, got_scales = ternarize(torch.tensor([ROW]), None, threshold)
    assert got_codes.dtype == torch.int8
    assert got_codes.tolist() == [codes]
    assert got_scales.shape == (1, 1)
    assert got_scales.item() == as_scale(scale)


def test_per_tensor_scale_pools_all_rows():
    weight = torch.tensor([ROW, [0.0, 0.0, 0.0, 0.4]])  # mean |w| = 4.0 / 8 = 0.5
    codes, scales = ternarize(weight, None, "paper")
    assert codes.tolist() == [[1, -1, 1, 0], [0, 0, 0, 0]]
    assert scales.tolist() == [[as_scale(1.0)]]


def test_per_row_scales_are_independent():
    weight = torch.tensor([ROW, [0.2, -0.2, 0.0, 0.0]])
    codes, scales = ternarize(weight, 0, "paper")
    assert codes.tolist() == [[1, -1, 0, 0], [1, -1, 0, 0]]
    assert scales.tolist() == [[as_scale(1.8)], [as_scale(0.2)]]


def test_grouped_scales_with_a_short_last_group():
    weight = torch.tensor([[1.0, -3.0, 0.2, 0.2, -0.7]])  # groups of 2: [1,-3], [0.2,0.2], [-0.7]
    codes, scales = ternarize(weight, 2, "optimal")
    assert scales.shape == (1, 3)
    assert scales.tolist() == [[as_scale(3.0), as_scale(0.2), as_scale(0.7)]]
    assert codes.tolist() == [[0, -1, 1, 1, -1]]
    expected = torch.tensor([[0.0, -3.0, 0.2, 0.2, -0.7]])
    assert torch.allclose(dequantize(codes, scales, 2), expected, atol=1e-3)


def test_group_as_large_as_the_row_equals_per_row():
    weight = torch.randn(6, 10, generator=torch.Generator().manual_seed(1))
    for threshold in ("paper", "absmean", "optimal"):
        row_codes, row_scales = ternarize(weight, 0, threshold)
        group_codes, group_scales = ternarize(weight, 16, threshold)
        assert torch.equal(row_codes, group_codes)
        assert torch.equal(row_scales, group_scales)


def test_all_zero_weight_gives_zero_codes_and_finite_scales():
    for threshold in ("paper", "absmean", "optimal"):
        codes, scales = ternarize(torch.zeros(3, 4), 0, threshold)
        assert torch.isfinite(scales).all()
        assert torch.equal(codes, torch.zeros(3, 4, dtype=torch.int8))
        assert torch.equal(dequantize(codes, scales, 0), torch.zeros(3, 4))


def test_optimal_scale_minimises_squared_error_for_its_codes():
    weight = torch.randn(8, 64, generator=torch.Generator().manual_seed(2))
    codes, scales = ternarize(weight, 0, "optimal")
    error = (dequantize(codes, scales, 0) - weight).pow(2).sum()
    for factor in (0.9, 1.1):
        assert (dequantize(codes, scales * factor, 0) - weight).pow(2).sum() > error


def test_scales_are_rounded_to_the_stored_dtype():
    _, scales = ternarize(torch.randn(4, 8), 0, "paper")
    assert scales.dtype == torch.float32
    assert torch.equal(scales, scales.to(SCALE_DTYPE).float())


def test_expand_scales_shapes():
    assert expand_scales(torch.ones(1, 1), 7, None).shape == (1, 1)
    assert expand_scales(torch.ones(3, 1), 7, 0).shape == (3, 1)
    assert expand_scales(torch.arange(6.0).reshape(3, 2), 7, 4).shape == (3, 7)


def test_ternarize_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        ternarize(torch.zeros(4), None, "paper")
    with pytest.raises(ConfigError, match="threshold"):
        ternarize(torch.zeros(2, 2), None, "median")


def test_straight_through_gradient_is_identity():
    weight = torch.randn(5, 7, requires_grad=True)
    upstream = torch.randn(5, 7)
    (fake_ternarize(weight, 0, "optimal") * upstream).sum().backward()
    assert torch.equal(weight.grad, upstream)


def test_ternary_linear_trains_the_latent_weight_like_a_linear_layer():
    torch.manual_seed(3)
    layer = TernaryLinear(6, 4, group_size=0, threshold="paper")
    x = torch.randn(3, 6)
    layer(x).sum().backward()
    expected_grad = torch.ones(3, 4).T @ x
    assert torch.allclose(layer.weight.grad, expected_grad)
    with torch.no_grad():
        codes, scales = ternarize(layer.weight, 0, "paper")
        expected = torch.nn.functional.linear(x, dequantize(codes, scales, 0), layer.bias)
    assert torch.allclose(layer(x), expected)


def test_int8_activations_round_trip_within_half_a_step():
    x = torch.randn(4, 9, 16)
    values, scale = quantize_activations_int8(x)
    assert values.dtype == torch.int8
    assert scale.shape == (4, 9, 1)
    assert (values.float() * scale - x).abs().max() <= scale.max() / 2 + 1e-7
    x.requires_grad_(True)
    fake_quantize_activations_int8(x).sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


@pytest.mark.parametrize(("text", "size"), [("tensor", None), ("row", 0), ("group:128", 128)])
def test_granularity_strings(text, size):
    assert parse_granularity(text) == size
    assert TernaryConfig(granularity=text).group_size == size


@pytest.mark.parametrize("text", ["group:0", "group:x", "column", ""])
def test_bad_granularity_is_rejected(text):
    with pytest.raises(ConfigError, match="granularity"):
        parse_granularity(text)


def test_config_round_trip_and_validation():
    config = TernaryConfig(granularity="group:64", threshold="paper", storage="base3", embeddings="int4")
    assert TernaryConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown TernaryConfig fields"):
        TernaryConfig.from_dict({**config.to_dict(), "bits": 2})
    with pytest.raises(ConfigError, match="storage"):
        TernaryConfig(storage="3bit")
    with pytest.raises(ConfigError, match="include"):
        TernaryConfig(include=())
