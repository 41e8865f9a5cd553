"""Choosing the path: forced by TERNEMBED_KERNEL, and a warned fallback when the library cannot load."""

from __future__ import annotations

import warnings

import pytest
import torch

import ternembed.kernels as kernels
from ternembed.kernels import KERNEL_ENV, KernelFallbackWarning, selected_kernel, ternary_linear
from ternembed.kernels.native import LIBRARY_ENV
from ternembed.kernels.reference import ternary_linear_reference
from ternembed.nn import PackedTernaryLinear


@pytest.fixture
def layer() -> PackedTernaryLinear:
    weight = torch.randn(24, 40, generator=torch.Generator().manual_seed(0))
    return PackedTernaryLinear.from_weight(weight, None, storage="2bit", group_size=0, threshold="optimal")


def test_reference_forced_by_environment(monkeypatch, layer):
    monkeypatch.setenv(KERNEL_ENV, "reference")
    assert selected_kernel() == "reference"
    x = torch.randn(3, 40)
    torch.testing.assert_close(ternary_linear(x, layer), ternary_linear_reference(x, layer), rtol=0, atol=0)
    assert layer.kernel_state is None


def test_unknown_kernel_name_is_a_clear_error(monkeypatch, layer):
    monkeypatch.setenv(KERNEL_ENV, "gpu")
    with pytest.raises(ValueError, match="TERNEMBED_KERNEL='gpu' is not one of"):
        ternary_linear(torch.randn(1, 40), layer)


@pytest.mark.parametrize("content", [None, b"not a shared library"])
def test_unloadable_library_warns_once_and_falls_back(monkeypatch, tmp_path, layer, content):
    path = tmp_path / "_ternary_native.so"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv(LIBRARY_ENV, str(path))
    monkeypatch.delenv(KERNEL_ENV, raising=False)
    monkeypatch.setattr(kernels, "_libraries", {})
    x = torch.randn(2, 40)
    with pytest.warns(KernelFallbackWarning, match="Falling back to the pure-torch reference"):
        out = ternary_linear(x, layer)
    torch.testing.assert_close(out, ternary_linear_reference(x, layer))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ternary_linear(x, layer)
    assert selected_kernel() == "reference"
