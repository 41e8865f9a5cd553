"""Inference ternary linear layer: packed codes and scales, no float weight in memory."""

from __future__ import annotations

import torch
from torch import nn

from ternembed.formats import get_format
from ternembed.kernels import ternary_linear
from ternembed.nn.ternary_linear import TernaryLinear
from ternembed.ternary import ternarize


class PackedTernaryLinear(nn.Module):
    """Holds ``weight_packed`` (uint8 codes), ``weight_scale`` (float32) and ``bias`` as buffers.

    The forward pass goes through :func:`ternembed.kernels.ternary_linear`, which picks the fast CPU
    kernel when it is available and the pure-torch reference otherwise.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool,
        storage: str,
        group_size: int | None,
        activations: str = "float",
        scale_shape: tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.storage = storage
        self.group_size = group_size
        self.activations = activations
        fmt = get_format(storage)
        self.register_buffer(
            "weight_packed", torch.zeros(fmt.packed_shape((out_features, in_features)), dtype=torch.uint8)
        )
        self.register_buffer("weight_scale", torch.zeros(scale_shape or (1, 1), dtype=torch.float32))
        self.register_buffer("bias", torch.zeros(out_features) if bias else None)
        self.kernel_state: object | None = None
        """Kernel-specific prepacked weights, built lazily by the fast kernel; never saved."""

    @classmethod
    def from_weight(
        cls,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        *,
        storage: str,
        group_size: int | None,
        threshold: str,
        activations: str = "float",
        scale_gain: torch.Tensor | None = None,
    ) -> PackedTernaryLinear:
        """Ternarize a float weight and pack it (``scale_gain``: learned factors on its scales)."""
        codes, scales = ternarize(weight, group_size, threshold)
        if scale_gain is not None:
            scales = scales * scale_gain.detach().float()
        layer = cls(
            weight.shape[1],
            weight.shape[0],
            bias=bias is not None,
            storage=storage,
            group_size=group_size,
            activations=activations,
            scale_shape=tuple(scales.shape),
        )
        layer.weight_packed = get_format(storage).pack(codes)
        layer.weight_scale = scales
        if bias is not None:
            layer.bias = bias.detach().float().clone()
        return layer

    @classmethod
    def from_ternary_linear(cls, layer: TernaryLinear, storage: str) -> PackedTernaryLinear:
        return cls.from_weight(
            layer.weight.detach(),
            layer.bias,
            storage=storage,
            group_size=layer.group_size,
            threshold=layer.threshold,
            activations=layer.activations,
            scale_gain=getattr(layer, "scale_gain", None),
        )

    def codes(self) -> torch.Tensor:
        """The int8 codes ``[out, in]`` in {-1, 0, 1}."""
        return get_format(self.storage).unpack(self.weight_packed, (self.out_features, self.in_features))

    def __getstate__(self) -> dict:
        # The kernel state holds ctypes pointers into this process's memory: a copy or another process
        # (multiprocessing, copy.deepcopy) rebuilds it at first use instead.
        state = super().__getstate__()
        state["kernel_state"] = None
        return state

    def _apply(self, fn, recurse: bool = True):  # noqa: ANN001 - torch's signature
        self.kernel_state = None
        return super()._apply(fn, recurse)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        self.kernel_state = None
        scale = state_dict.get(prefix + "weight_scale")
        if scale is not None and scale.shape != self.weight_scale.shape:
            self.weight_scale = torch.zeros(scale.shape, dtype=torch.float32)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ternary_linear(x, self)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, storage={self.storage}, "
            f"group_size={self.group_size}, activations={self.activations}, bias={self.bias is not None}"
        )
