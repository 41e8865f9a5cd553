"""Weight averaging inside one run: an exponential moving average (EMA) of the student's latent weights.

Averaging the latent (pre-ternarization) weights of several runs pays (``ternembed soup``); an EMA gets
part of that inside one run. After every optimizer step each trainable tensor's shadow moves toward the
live value, ``shadow += (1 - decay) * (live - shadow)``, with the decay ramped up over the first steps
(``min(decay, (1 + step) / (10 + step))``) so early shadows do not hold the untrained copy. At the end
the shadows replace the live values before the student is evaluated and saved.
"""

from __future__ import annotations

import torch
from torch import nn

from ternembed.errors import InvalidArgumentError

CHECKPOINT_PREFIX = "ema_shadow::"
"""Shadow tensors ride in the checkpoint's model state under this key prefix."""


class LatentEMA:
    """EMA shadows of a module's trainable floating-point parameters."""

    def __init__(self, module: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise InvalidArgumentError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self._parameters = {
            name: p for name, p in module.named_parameters() if p.requires_grad and p.is_floating_point()
        }
        self.shadows = {name: p.detach().clone() for name, p in self._parameters.items()}

    def update(self, step: int) -> None:
        """Move the shadows toward the live parameters after optimizer step ``step`` (0-based)."""
        decay = min(self.decay, (1.0 + step) / (10.0 + step))
        with torch.no_grad():
            shadows = list(self.shadows.values())
            live = [self._parameters[name].detach() for name in self.shadows]
            torch._foreach_lerp_(shadows, live, 1.0 - decay)

    def copy_to_module(self) -> None:
        """Replace the live parameters with their shadows (at the end of training)."""
        with torch.no_grad():
            for name, shadow in self.shadows.items():
                self._parameters[name].copy_(shadow)

    def checkpoint_state(self) -> dict[str, torch.Tensor]:
        """The shadows under :data:`CHECKPOINT_PREFIX` keys, to merge into a checkpoint's model state."""
        return {CHECKPOINT_PREFIX + name: shadow for name, shadow in self.shadows.items()}

    def restore(self, shadows: dict[str, torch.Tensor]) -> None:
        """Load shadows taken from a checkpoint (see :func:`split_checkpoint_state`)."""
        missing = set(self.shadows) - set(shadows)
        if missing:
            raise InvalidArgumentError(
                f"the checkpoint holds no EMA shadow for {len(missing)} parameters, e.g. {min(missing)}"
            )
        with torch.no_grad():
            for name, shadow in self.shadows.items():
                shadow.copy_(shadows[name])


def split_checkpoint_state(
    state: dict[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """A checkpoint's model state split into (the module's own state, the EMA shadows by parameter name)."""
    own = {k: v for k, v in state.items() if not k.startswith(CHECKPOINT_PREFIX)}
    shadows = {k[len(CHECKPOINT_PREFIX) :]: v for k, v in state.items() if k.startswith(CHECKPOINT_PREFIX)}
    return own, shadows
