"""Length-bucketed batch plans: complete, deterministic, and disjoint across ranks."""

from __future__ import annotations

import random

from ternembed.distill.batching import StepPlan, bucketed_batches


def test_batches_cover_every_item_once_and_are_seeded():
    lengths = [random.Random(i).randint(1, 60) for i in range(1000)]
    batches = bucketed_batches(lengths, 16, seed=0, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert batches == bucketed_batches(lengths, 16, seed=0, epoch=0)
    assert batches != bucketed_batches(lengths, 16, seed=0, epoch=1)


def test_bucketing_reduces_padding():
    lengths = [random.Random(i).randint(1, 60) for i in range(1000)]
    padded = sum(max(lengths[i] for i in b) * len(b) for b in bucketed_batches(lengths, 16, 0, 0))
    order = list(range(1000))
    random.Random(0).shuffle(order)
    unsorted = sum(max(lengths[i] for i in order[s : s + 16]) * 16 for s in range(0, 1000, 16))
    assert padded < 0.6 * unsorted


def test_step_plan_gives_ranks_disjoint_batches_and_drops_the_remainder():
    plan = StepPlan([5] * 100, batch_size=4, grad_accum=2, world_size=2, seed=0)
    assert plan.steps_per_epoch == 25 // 4
    seen = [
        tuple(plan.batch(s, m, r)) for s in range(plan.steps_per_epoch) for m in range(2) for r in range(2)
    ]
    assert len(set(seen)) == len(seen)
    assert plan.batch(plan.steps_per_epoch, 0, 0) != plan.batch(0, 0, 0)  # next epoch, new order
