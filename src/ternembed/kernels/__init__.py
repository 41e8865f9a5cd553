"""Ternary matmul kernels: the pure-torch reference and, when built, the fast CPU path."""

from __future__ import annotations

import torch

from ternembed.kernels.reference import ternary_linear_reference


def ternary_linear(x: torch.Tensor, layer) -> torch.Tensor:  # noqa: ANN001 - a PackedTernaryLinear
    """Apply a packed ternary layer to ``x`` with the best kernel available."""
    return ternary_linear_reference(x, layer)


__all__ = ["ternary_linear", "ternary_linear_reference"]
