"""Batch-norm recalibration: re-estimate running statistics after the weights change.

Ternarizing the convolutions of a CNN shifts every channel's mean and variance, while its batch
norms still normalize with the statistics of the full-precision network. Re-estimating them on a few
hundred unlabeled images is a forward pass, no training, and restores much of what PTQ loses.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ternembed.errors import InvalidArgumentError


@torch.no_grad()
def recalibrate_batch_norm(model: nn.Module, pixel_values: torch.Tensor, batch_size: int = 64) -> int:
    """Reset and re-estimate every batch norm's running mean/variance on ``pixel_values``, in place.

    Only the batch norms switch to training mode (dropout and drop-path stay off); each norm ends
    with the exact average over all batches. Returns the number of batch norms recalibrated.
    """
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not norms:
        return 0
    if len(pixel_values) == 0:
        raise InvalidArgumentError("batch-norm recalibration needs at least one image")
    was_training = model.training
    model.eval()
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches
        norm.train()
    for start in range(0, len(pixel_values), batch_size):
        model(pixel_values[start : start + batch_size])
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    model.train(was_training)
    return len(norms)
