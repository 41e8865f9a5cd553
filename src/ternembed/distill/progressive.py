"""Two ways of easing a student into ternary weights: progressive ternarization and learnable scales."""

from __future__ import annotations

from torch import nn

from ternembed.nn import TernaryLinear


def ternary_mix(step: int, total_steps: int, fraction: float) -> float:
    """How ternary the student's weights are at ``step``: rises linearly from 0 to 1 over the first
    ``fraction`` of ``total_steps`` (1 throughout when ``fraction`` is 0)."""
    ramp = fraction * total_steps
    return 1.0 if ramp <= 0 else min(1.0, step / ramp)


def set_ternary_mix(model: nn.Module, mix: float) -> None:
    """Blend every train-time ternary layer's weight as ``latent + mix * (ternary - latent)``."""
    for module in model.modules():
        if hasattr(module, "ternary_mix"):
            module.ternary_mix = mix


def learn_scales(model: nn.Module) -> int:
    """Give every TernaryLinear a trainable factor on its scales; returns how many layers got one."""
    layers = [m for m in model.modules() if isinstance(m, TernaryLinear)]
    for layer in layers:
        layer.learn_scales()
    return len(layers)
