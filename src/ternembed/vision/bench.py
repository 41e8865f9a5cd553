"""CPU latency of an image encoder against its full-precision baseline, as ``ternembed bench`` rows.

Rows follow the ``bench.json`` schema of :mod:`ternembed.cli.bench` (``variant``, ``batch_size``,
``seq_len``, ``threads``, ``median_ms``); for images ``seq_len`` is the number of tokens (patches,
plus CLS) the backbone sees. Pixels are preprocessed once, so only the forward pass is timed.
"""

from __future__ import annotations

import copy
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from ternembed.errors import InvalidArgumentError
from ternembed.vision.encoder import ImageEncoder
from ternembed.vision.inputs import probe_images

DEFAULT_BATCH_SIZES = (1, 8, 32)


@torch.inference_mode()
def _median_ms(model: ImageEncoder, pixels: torch.Tensor, repeats: int) -> float:
    model(pixels)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model(pixels)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def image_latency_rows(
    model: ImageEncoder,
    baseline: ImageEncoder,
    batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES,
    threads: int = 2,
    repeats: int = 10,
) -> list[dict[str, Any]]:
    """Median forward latency of ``torch-fp32`` and ``torch-bf16`` (the baseline) and ``ternary`` (``model``)."""
    if repeats < 1 or threads < 1 or not batch_sizes or min(batch_sizes) < 1:
        raise InvalidArgumentError(
            f"threads, repeats and batch sizes must be at least 1, got {threads}, {repeats}, {batch_sizes}"
        )
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    variants = {
        "torch-fp32": (baseline.eval(), torch.float32),
        "torch-bf16": (copy.deepcopy(baseline).to(torch.bfloat16).eval(), torch.bfloat16),
        "ternary": (model.eval(), torch.float32),
    }
    rows = []
    try:
        for batch_size in batch_sizes:
            images = probe_images(batch_size, size=int(baseline.config.image_size))
            pixels = baseline.preprocess(images)
            with torch.inference_mode():
                tokens = int(baseline(pixels[:1])["token_embeddings"].shape[1])
            for variant, (encoder, dtype) in variants.items():
                rows.append(
                    {
                        "variant": variant,
                        "batch_size": batch_size,
                        "seq_len": tokens,
                        "threads": threads,
                        "median_ms": round(_median_ms(encoder, pixels.to(dtype), repeats), 3),
                    }
                )
    finally:
        torch.set_num_threads(previous_threads)
    return rows


def run_image_bench(
    model: ImageEncoder,
    baseline: ImageEncoder,
    out: Path,
    *,
    model_name: str,
    baseline_name: str,
    threads: int = 2,
    repeats: int = 10,
) -> dict[str, Any]:
    """``ternembed bench`` for image encoders: latency rows with ratios to fp32, written as
    ``bench.json`` (``rows`` in the text bench's schema), ``bench.md`` and ``bench.png``."""
    from ternembed.perf.report import write_chart

    rows = image_latency_rows(model, baseline, DEFAULT_BATCH_SIZES, threads, repeats)
    fp32 = {row["batch_size"]: row["median_ms"] for row in rows if row["variant"] == "torch-fp32"}
    for row in rows:
        row["latency_vs_fp32"] = round(row["median_ms"] / fp32[row["batch_size"]], 3)
        row["speedup_vs_fp32"] = round(fp32[row["batch_size"]] / row["median_ms"], 3)
        row["images_per_s"] = round(1000 * row["batch_size"] / row["median_ms"], 1)
    result = {
        "model": model_name,
        "baseline": baseline_name,
        "threads": threads,
        "repeats": repeats,
        "rows": rows,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=2))
    lines = [
        f"# ternembed bench: {model_name}",
        "",
        f"Image encoder against `{baseline_name}`, {threads} threads, median of {repeats} forward passes on "
        "preprocessed pixels.",
        "",
        "| batch x tokens | variant | median ms | x fp32 latency | images/s |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['batch_size']}x{r['seq_len']} | {r['variant']} | {r['median_ms']:.2f} | {r['latency_vs_fp32']:.2f} | "
        f"{r['images_per_s']:.1f} |"
        for r in rows
    ]
    (out / "bench.md").write_text("\n".join(lines) + "\n")
    write_chart(result, out / "bench.png")
    return result
