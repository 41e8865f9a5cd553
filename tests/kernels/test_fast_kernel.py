"""The compiled kernels agree with the pure-torch reference on every layout, shape and path."""

from __future__ import annotations

import pytest
import torch

from ternembed.kernels import KERNEL_ENV, native_library, selected_kernel, ternary_linear
from ternembed.kernels.native import ISA_NAMES
from ternembed.kernels.reference import ternary_linear_reference, unpacked_weight
from ternembed.nn import PackedTernaryLinear
from ternembed.ternary import quantize_activations_int8

pytestmark = pytest.mark.skipif(native_library() is None, reason="compiled kernel library not built")

BEST_ISA = selected_kernel()
AVAILABLE_ISAS = ISA_NAMES[: ISA_NAMES.index(BEST_ISA) + 1] if BEST_ISA in ISA_NAMES else ()
LAYOUT_ISAS = tuple(dict.fromkeys(("portable", BEST_ISA))) if AVAILABLE_ISAS else ()
"""Every layout on the fallback and the best path; every path on the odd shapes below."""
GRANULARITIES = {"tensor": None, "row": 0, "group:64": 64, "group:48": 48, "group:1000": 1000}


def make_layer(
    out_features: int, in_features: int, *, group_size, storage="2bit", activations="float", bias=True
):
    generator = torch.Generator().manual_seed(out_features * 1000 + in_features)
    weight = torch.randn(out_features, in_features, generator=generator)
    bias_values = torch.randn(out_features, generator=generator) if bias else None
    return PackedTernaryLinear.from_weight(
        weight,
        bias_values,
        storage=storage,
        group_size=group_size,
        threshold="optimal",
        activations=activations,
    )


def assert_matches_reference(x: torch.Tensor, layer: PackedTernaryLinear) -> None:
    expected = ternary_linear_reference(x, layer)
    actual = ternary_linear(x, layer)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    scale = expected.abs().max().clamp(min=1.0)
    torch.testing.assert_close(actual / scale, expected / scale, rtol=0, atol=1e-5)


@pytest.mark.parametrize("isa", LAYOUT_ISAS)
@pytest.mark.parametrize("activations", ["float", "int8"])
@pytest.mark.parametrize("granularity", list(GRANULARITIES))
@pytest.mark.parametrize("storage", ["2bit", "base3"])
@pytest.mark.parametrize("batch", [(2, 19), (1, 7)], ids=["panel-expand", "pair-expand"])
def test_layouts_and_paths_match_reference(monkeypatch, isa, activations, granularity, storage, batch):
    """38 rows: AMX int8 expands 2-bit codes a panel at a time; 7 rows (one row block): a pair at a time."""
    monkeypatch.setenv(KERNEL_ENV, isa)
    layer = make_layer(
        96, 384, group_size=GRANULARITIES[granularity], storage=storage, activations=activations
    )
    x = torch.randn(*batch, 384, generator=torch.Generator().manual_seed(1))
    assert_matches_reference(x, layer)


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("activations", ["float", "int8"])
@pytest.mark.parametrize(
    ("rows", "out_features", "in_features"),
    [(1, 384, 384), (1, 1, 1), (3, 1, 70), (33, 17, 130), (70, 200, 384), (5, 64, 1536), (129, 40, 65)],
)
def test_odd_shapes_match_reference(monkeypatch, isa, activations, rows, out_features, in_features):
    monkeypatch.setenv(KERNEL_ENV, isa)
    layer = make_layer(out_features, in_features, group_size=0, activations=activations)
    x = torch.randn(rows, in_features, generator=torch.Generator().manual_seed(rows))
    assert_matches_reference(x, layer)


@pytest.mark.parametrize("activations", ["float", "int8"])
def test_many_rows_use_all_threads_and_match(activations):
    layer = make_layer(64, 200, group_size=None, activations=activations, bias=False)
    x = torch.randn(4, 300, 200, generator=torch.Generator().manual_seed(3))
    assert_matches_reference(x, layer)


def test_int8_mode_is_exact_integer_arithmetic():
    """Integer sums are exact, so the kernel is within float32 rounding of a float64 evaluation."""
    layer = make_layer(48, 256, group_size=0, activations="int8")
    x = torch.randn(9, 256, generator=torch.Generator().manual_seed(4))
    values, scale = quantize_activations_int8(x)
    exact = torch.nn.functional.linear(
        values.double() * scale.double(), unpacked_weight(layer).double(), layer.bias.double()
    )
    torch.testing.assert_close(ternary_linear(x, layer).double(), exact, rtol=1e-6, atol=1e-6)


def test_empty_batch_returns_empty_output():
    layer = make_layer(32, 384, group_size=0)
    out = ternary_linear(torch.zeros(0, 7, 384), layer)
    assert out.shape == (0, 7, 32)


def test_non_contiguous_and_half_inputs():
    layer = make_layer(40, 96, group_size=0)
    wide = torch.randn(6, 200)
    assert_matches_reference(wide[:, 10:106], layer)
    x = torch.randn(5, 96).to(torch.bfloat16)
    assert ternary_linear(x, layer).dtype == torch.bfloat16


def test_gelu_epilogue_matches_torch_gelu():
    layer = make_layer(64, 128, group_size=0)
    x = torch.randn(10, 128)
    expected = torch.nn.functional.gelu(ternary_linear_reference(x, layer))
    torch.testing.assert_close(ternary_linear(x, layer, epilogue="gelu"), expected, rtol=1e-5, atol=1e-5)


def test_repacked_weights_are_cached_and_refreshed():
    layer = make_layer(32, 64, group_size=0)
    x = torch.randn(3, 64)
    ternary_linear(x, layer)
    state = layer.kernel_state
    ternary_linear(x, layer)
    assert layer.kernel_state is state
    layer.weight_scale = layer.weight_scale * 2
    assert_matches_reference(x, layer)
    assert layer.kernel_state is not state


def test_autograd_inputs_use_the_reference():
    layer = make_layer(16, 32, group_size=0)
    x = torch.randn(2, 32, requires_grad=True)
    ternary_linear(x, layer).sum().backward()
    assert x.grad is not None
