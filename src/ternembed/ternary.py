"""The ternarization rules: weights -> codes in {-1, 0, +1} and scales.

One source of truth for every threshold/scale rule and granularity. Scales always come back as a
2-D float32 tensor ``[rows, groups]``: ``[1, 1]`` per tensor, ``[out, 1]`` per row and
``[out, ceil(in / N)]`` per group of N input columns.
"""

from __future__ import annotations

import torch

from ternembed.config import ConfigError
from ternembed.errors import InvalidArgumentError

SCALE_DTYPE = torch.float16
"""Scales are rounded to this dtype at creation, so the stored file and the in-memory model agree."""


def _unit_view(weight: torch.Tensor, group_size: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Reshape |W| into [rows, groups, columns] scale units (zero padded) and the true count per unit."""
    out_features, in_features = weight.shape
    magnitude = weight.detach().abs().float()
    if group_size is None:
        return magnitude.reshape(1, 1, -1), torch.tensor([[float(weight.numel())]], device=weight.device)
    if group_size == 0 or group_size >= in_features:
        return magnitude.reshape(out_features, 1, in_features), torch.tensor(
            [[float(in_features)]], device=weight.device
        )
    groups = -(-in_features // group_size)
    padded = torch.nn.functional.pad(magnitude, (0, groups * group_size - in_features))
    counts = torch.full((1, groups), float(group_size), device=weight.device)
    counts[0, -1] = in_features - group_size * (groups - 1)
    return padded.reshape(out_features, groups, group_size), counts


def expand_scales(scales: torch.Tensor, in_features: int, group_size: int | None) -> torch.Tensor:
    """Broadcastable per-weight scales: ``[1, 1]``, ``[out, 1]`` or ``[out, in]`` for groups."""
    if scales.shape[1] == 1:
        return scales
    assert group_size, "grouped scales need a group size"
    return scales.repeat_interleave(group_size, dim=1)[:, :in_features]


def ternarize(
    weight: torch.Tensor, group_size: int | None, threshold: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (codes int8 in {-1,0,1} shaped like ``weight``, scales float32 ``[rows, groups]``).

    Args:
        weight: a 2-D ``[out_features, in_features]`` weight.
        group_size: None per tensor, 0 per row, N per group of N input columns.
        threshold: ``"paper"``, ``"absmean"`` or ``"optimal"`` (see :class:`~ternembed.TernaryConfig`).
    """
    if weight.dim() != 2:
        raise InvalidArgumentError(f"ternarize expects a 2-D weight, got shape {tuple(weight.shape)}")
    units, counts = _unit_view(weight, group_size)
    mean_abs = units.sum(-1) / counts
    if threshold == "paper":
        cutoff, scales = mean_abs, 2.0 * mean_abs
    elif threshold == "absmean":
        cutoff, scales = 0.5 * mean_abs, mean_abs
    elif threshold == "optimal":
        cutoff = mean_abs
        kept = units >= cutoff.unsqueeze(-1)
        kept_count = kept.sum(-1)
        kept_sum = (units * kept).sum(-1)
        scales = torch.where(kept_count > 0, kept_sum / kept_count.clamp(min=1), mean_abs)
    else:
        raise ConfigError(f"threshold must be 'paper', 'absmean' or 'optimal', got {threshold!r}")
    cutoff_per_weight = expand_scales(cutoff, weight.shape[1], group_size)
    magnitude = weight.detach().abs().float()
    codes = torch.sign(weight.detach()).to(torch.int8) * (magnitude >= cutoff_per_weight).to(torch.int8)
    return codes, scales.to(SCALE_DTYPE).float().contiguous()


def dequantize(codes: torch.Tensor, scales: torch.Tensor, group_size: int | None) -> torch.Tensor:
    """Float weight ``codes * scale`` from ternary codes and their scales."""
    return codes.float() * expand_scales(scales, codes.shape[1], group_size)


def fake_ternarize(
    weight: torch.Tensor,
    group_size: int | None,
    threshold: str,
    gain: torch.Tensor | None = None,
    mix: float = 1.0,
) -> torch.Tensor:
    """Ternarized weight in the forward pass, identity gradient to the latent weight (straight-through).

    Args:
        gain: learnable factors on the scales (the scales' shape); they receive the gradient of the scales.
        mix: ``latent + mix * (ternary - latent)``: 1 is fully ternary; progressive ternarization ramps it up.
    """
    codes, scales = ternarize(weight.detach(), group_size, threshold)
    if gain is None:
        quantized = dequantize(codes, scales, group_size).to(weight.dtype)
        return weight + mix * (quantized - weight).detach()
    quantized = dequantize(codes, scales * gain, group_size).to(weight.dtype)
    return mix * quantized + (1.0 - mix) * weight.detach() + (weight - weight.detach())


INT8_MAX = 127.0


def quantize_activations_int8(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-token int8: returns (int8 values, float32 scale per token with a trailing 1 dim).

    Values are ``round(x * (1 / scale))`` (a float32 reciprocal, then a multiply, rounding half to even):
    the fast kernels stage activations with exactly this arithmetic.
    """
    scale = x.detach().abs().amax(dim=-1, keepdim=True).float().clamp(min=1e-8) / INT8_MAX
    values = torch.clamp(torch.round(x.float() * (1.0 / scale)), -INT8_MAX, INT8_MAX).to(torch.int8)
    return values, scale


def fake_quantize_activations_int8(x: torch.Tensor) -> torch.Tensor:
    """Per-token int8 round trip in the forward pass, straight-through in the backward pass."""
    values, scale = quantize_activations_int8(x)
    return x + (values.float() * scale - x).detach().to(x.dtype)
