"""Train-time ternary linear layer: latent float weights, ternary forward, straight-through backward."""

from __future__ import annotations

import torch
from torch import nn

from ternembed.config import TernaryConfig
from ternembed.ternary import fake_quantize_activations_int8, fake_ternarize, ternarize


class TernaryLinear(nn.Linear):
    """``nn.Linear`` whose forward uses ``codes * scale`` computed from the latent weight.

    Gradients reach the latent full-precision weight unchanged (straight-through estimator), so the
    layer trains like a normal linear layer while always computing with ternary weights.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        group_size: int | None = 0,
        threshold: str = "optimal",
        activations: str = "float",
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.group_size = group_size
        self.threshold = threshold
        self.activations = activations
        self.scale_gain: nn.Parameter | None = None
        self.ternary_mix = 1.0

    @classmethod
    def from_linear(cls, linear: nn.Linear, config: TernaryConfig) -> TernaryLinear:
        """A TernaryLinear that starts from ``linear``'s weights (shared, not copied)."""
        layer = cls(
            linear.in_features,
            linear.out_features,
            bias=linear.bias is not None,
            group_size=config.group_size,
            threshold=config.threshold,
            activations=config.activations,
            device=linear.weight.device,
            dtype=linear.weight.dtype,
        )
        layer.weight = linear.weight
        if linear.bias is not None:
            layer.bias = linear.bias
        return layer

    def learn_scales(self) -> None:
        """Train a factor on each ternary scale (starting at 1), folded into the scales when frozen."""
        _, scales = ternarize(self.weight.detach(), self.group_size, self.threshold)
        self.scale_gain = nn.Parameter(torch.ones_like(scales, dtype=self.weight.dtype))

    def ternary_weight(self) -> torch.Tensor:
        return fake_ternarize(self.weight, self.group_size, self.threshold, self.scale_gain, self.ternary_mix)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activations == "int8":
            x = fake_quantize_activations_int8(x)
        return nn.functional.linear(x, self.ternary_weight(), self.bias)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, group_size={self.group_size}, threshold={self.threshold}, "
            f"activations={self.activations}"
        )
