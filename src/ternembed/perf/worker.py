"""Benchmark worker process; prints its result as one JSON line.

``python -m ternembed.perf.worker SPEC_JSON`` either measures one variant alone (load time, peak memory,
latency per shape) or, when the spec lists ``variants``, times them all interleaved in one process.
Run by :mod:`ternembed.perf.bench`.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

RESULT_PREFIX = "TERNEMBED_BENCH_RESULT "
FIRST_TOKEN_ID, LAST_TOKEN_ID = 101, 102


def _status_mb(field: str) -> float:
    """A memory line of /proc/self/status in MiB (VmRSS now, VmHWM peak; both reset by exec)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise OSError(f"/proc/self/status has no {field} line")


def current_rss_mb() -> float:
    return _status_mb("VmRSS")


def make_batch(batch_size: int, seq_len: int, vocab_size: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random token ids framed by [CLS] ... [SEP], no padding: every variant sees the same input."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1000, vocab_size, size=(batch_size, seq_len), dtype=np.int64)
    ids[:, 0], ids[:, -1] = FIRST_TOKEN_ID, LAST_TOKEN_ID
    return {
        "input_ids": ids,
        "attention_mask": np.ones_like(ids),
        "token_type_ids": np.zeros_like(ids),
    }


def time_shape(run, batch: dict[str, np.ndarray], repeats: int, budget_s: float) -> list[float]:  # noqa: ANN001
    """Milliseconds of ``repeats`` timed calls after one warm-up (fewer if over the time budget)."""
    run(batch)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats and (len(times) < 3 or time.perf_counter() - start < budget_s):
        began = time.perf_counter()
        run(batch)
        times.append((time.perf_counter() - began) * 1e3)
    return times


def load_variant(spec: dict, variant: str):  # noqa: ANN201 - (runner, weight bytes)
    from ternembed.perf import variants

    if variant == "ort-int8":
        return variants.load_ort_variant(Path(spec["onnx_path"]), spec["threads"])
    return variants.load_torch_variant(
        variant, spec["baseline"], spec["ternary_source"], spec["ternarize"], spec.get("activations")
    )


def time_interleaved(spec: dict) -> dict:
    """Latency of every variant in one process, one call of each in turn per round.

    On a shared, noisy machine this spreads load spikes over all variants alike instead of
    penalizing whichever variant happened to run during one; memory is measured separately.
    """
    import torch

    torch.set_num_threads(spec["threads"])
    runners = {variant: load_variant(spec, variant)[0] for variant in spec["variants"]}
    rows = []
    for batch_size, seq_len in spec["shapes"]:
        batch = make_batch(batch_size, seq_len, spec["vocab_size"])
        times: dict[str, list[float]] = {variant: [] for variant in runners}
        for run in runners.values():
            run(batch)
        start = time.perf_counter()
        for round_index in range(spec["repeats"]):
            if round_index >= 3 and time.perf_counter() - start > spec["budget_s"] * len(runners):
                break
            for variant, run in runners.items():
                began = time.perf_counter()
                run(batch)
                times[variant].append((time.perf_counter() - began) * 1e3)
        for variant, values in times.items():
            median_ms = statistics.median(values)
            rows.append(
                {
                    "variant": variant,
                    "batch_size": batch_size,
                    "seq_len": seq_len,
                    "threads": spec["threads"],
                    "median_ms": median_ms,
                    "min_ms": min(values),
                    "repeats": len(values),
                    "texts_per_s": batch_size / (median_ms / 1e3),
                }
            )
    return {"rows": rows}


def measure(spec: dict) -> dict:
    import torch

    torch.set_num_threads(spec["threads"])
    variant = spec["variant"]
    rss_before = current_rss_mb()
    began = time.perf_counter()
    run, weight_bytes = load_variant(spec, variant)
    load_s = time.perf_counter() - began
    rss_loaded = current_rss_mb()
    rows = []
    for batch_size, seq_len in spec["shapes"]:
        batch = make_batch(batch_size, seq_len, spec["vocab_size"])
        times = time_shape(run, batch, spec["repeats"], spec["budget_s"])
        median_ms = statistics.median(times)
        rows.append(
            {
                "variant": variant,
                "batch_size": batch_size,
                "seq_len": seq_len,
                "threads": spec["threads"],
                "median_ms": median_ms,
                "min_ms": min(times),
                "repeats": len(times),
                "texts_per_s": batch_size / (median_ms / 1e3),
            }
        )
    peak_rss_mb = _status_mb("VmHWM")
    extra = {
        "load_s": load_s,
        "weights_bytes": weight_bytes,
        "peak_rss_mb": peak_rss_mb,
        "model_rss_mb": rss_loaded - rss_before,
    }
    if variant.startswith("ternary"):
        from ternembed.kernels import selected_kernel

        extra["kernel"] = selected_kernel()
    return {"rows": [{**row, **extra} for row in rows]}


def main() -> None:
    spec = json.loads(sys.argv[1])
    result = time_interleaved(spec) if "variants" in spec else measure(spec)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
