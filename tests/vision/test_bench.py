"""Image latency rows in the ``ternembed bench`` schema."""

from __future__ import annotations

import copy

from ternembed.vision.bench import image_latency_rows
from ternembed.vision.config import vision_ternary_config
from ternembed.vision.quantize import freeze_image_encoder, prepare_image_encoder
from tests.vision.conftest import tiny_encoder


def test_image_latency_rows() -> None:
    baseline = tiny_encoder("vit")
    config = vision_ternary_config()
    ternary = freeze_image_encoder(prepare_image_encoder(copy.deepcopy(baseline), config), config)
    rows = image_latency_rows(ternary, baseline, batch_sizes=(1, 2), threads=1, repeats=2)
    assert [(r["variant"], r["batch_size"]) for r in rows] == [
        ("torch-fp32", 1), ("torch-bf16", 1), ("ternary", 1), ("torch-fp32", 2), ("torch-bf16", 2), ("ternary", 2),
    ]  # fmt: skip
    assert all(r["seq_len"] == 17 and r["threads"] == 1 and r["median_ms"] > 0 for r in rows)
