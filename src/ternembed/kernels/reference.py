"""Ground truth for every ternary kernel: unpack to float and call matmul.

Slow by design and kept simple: a fast kernel is correct when it agrees with these functions.
"""

from __future__ import annotations

import torch

from ternembed.formats import get_format
from ternembed.ternary import dequantize, quantize_activations_int8


def unpacked_weight(layer) -> torch.Tensor:  # noqa: ANN001 - any PackedTernaryLinear-like object
    """Float ``[out, in]`` weight ``codes * scale`` of a packed layer."""
    codes = get_format(layer.storage).unpack(layer.weight_packed, (layer.out_features, layer.in_features))
    return dequantize(codes, layer.weight_scale, layer.group_size)


def ternary_linear_reference(x: torch.Tensor, layer) -> torch.Tensor:  # noqa: ANN001
    """``y = x W^T + b`` with W ternary; activations fake-quantized per token in int8 mode."""
    if layer.activations == "int8":
        values, scale = quantize_activations_int8(x)
        x = values.float() * scale
    weight = unpacked_weight(layer)
    return torch.nn.functional.linear(x.float(), weight, layer.bias).to(x.dtype)
