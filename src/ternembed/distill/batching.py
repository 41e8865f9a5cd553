"""Length-bucketed batch plans: deterministic per (seed, epoch), sharded by rank for DDP."""

from __future__ import annotations

import random
from collections.abc import Sequence

from ternembed.errors import InvalidArgumentError

BUCKET_BATCHES = 64
"""Items are sorted by length within windows of this many batches, then the batches are shuffled."""


def bucketed_batches(lengths: Sequence[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Item indices grouped into batches of similar length (less padding), in a seeded random order."""
    if batch_size <= 0:
        raise InvalidArgumentError(f"batch_size must be positive, got {batch_size}")
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * BUCKET_BATCHES
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


class StepPlan:
    """Which batch each rank reads at each micro-step of each optimizer step.

    One optimizer step consumes ``grad_accum * world_size`` batches; the remainder of an epoch that
    cannot fill a step is dropped, so every rank runs the same number of forward/backward passes.
    """

    def __init__(
        self, lengths: Sequence[int], batch_size: int, grad_accum: int, world_size: int, seed: int
    ) -> None:
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.grad_accum = grad_accum
        self.world_size = world_size
        self.seed = seed
        self.batches_per_step = grad_accum * world_size
        self.steps_per_epoch = -(-len(self.lengths) // batch_size) // self.batches_per_step
        self._epoch: int | None = None
        self._batches: list[list[int]] = []

    def batch(self, step: int, micro_step: int, rank: int) -> list[int]:
        """Item indices for ``rank`` at ``micro_step`` (``0..grad_accum-1``) of optimizer ``step``."""
        epoch, step_in_epoch = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            self._batches = bucketed_batches(self.lengths, self.batch_size, self.seed, epoch)
            self._epoch = epoch
        return self._batches[(step_in_epoch * self.grad_accum + micro_step) * self.world_size + rank]
