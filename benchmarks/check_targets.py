"""Our own acceptance targets, judged on reports written by ``ternembed bench`` and ``ternembed bench-ann``.

The library reports measurements and ratios only; the thresholds below are this project's goals for
the default student on the reference machine, kept here so that they never reach users' output.

    python benchmarks/check_targets.py bench/bench.json ann-report/ann_bench.json

Prints one line per target (``met``, ``NOT met`` or ``n/a`` when the report lacks what it needs) and
exits with 1 when a target is not met.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ternembed.index.report import HNSW_BACKEND, headline_ratios
from ternembed.perf.report import footprint_ratios, speedups

SPEEDUP_OVER_FP32_1X32 = 5.0
"""1 x 32 tokens: ternary latency at most a fifth of torch fp32's."""
SPEEDUP_OVER_FP32_32X128 = 3.5
"""32 x 128 tokens: ternary throughput at least 3.5x torch fp32's."""
SPEEDUP_OVER_INT8_ENGINES = 1.5
"""Every shape: at least this much faster than the fastest int8 inference engine measured."""
INT8_ENGINES = ("ort-int8", "openvino-int8")
HNSW_NDCG_KEPT_MIN = 0.97
"""Model + float32 HNSW keeps this share of the baseline's exact-search nDCG@10."""
QUANTIZED_NDCG_KEPT_MIN = 0.99
"""int8/binary with rescoring keeps this share of float32 nDCG@10 ..."""
QUANTIZED_MEMORY_MIN = 4.0
"""... with at least this many times less index memory."""
LATENCY_RATIO_MAX = 0.5
"""Model's end-to-end query latency relative to the baseline's."""

Verdict = tuple[str, bool | None]


def _at(rows: list[dict], batch_size: int, seq_len: int) -> dict[str, float]:
    return next((r["speedup"] for r in rows if (r["batch_size"], r["seq_len"]) == (batch_size, seq_len)), {})


def bench_verdicts(result: dict) -> list[Verdict]:
    """Speed and footprint targets on a ``bench.json``."""
    rows = speedups(result)
    small, large = _at(rows, 1, 32), _at(rows, 32, 128)

    def over(speedup: dict[str, float], baseline: str, minimum: float) -> bool | None:
        return None if baseline not in speedup else speedup[baseline] >= minimum

    verdicts: list[Verdict] = [
        (
            f"1x32: ternary >= {SPEEDUP_OVER_FP32_1X32:g}x faster than torch-fp32",
            over(small, "torch-fp32", SPEEDUP_OVER_FP32_1X32),
        ),
        ("1x32: ternary faster than ort-int8", over(small, "ort-int8", 1.0)),
        (
            f"32x128: ternary >= {SPEEDUP_OVER_FP32_32X128:g}x the throughput of torch-fp32",
            over(large, "torch-fp32", SPEEDUP_OVER_FP32_32X128),
        ),
        ("32x128: ternary faster than torch-bf16", over(large, "torch-bf16", 1.0)),
    ]
    for row in rows:
        engines = [row["speedup"][name] for name in INT8_ENGINES if name in row["speedup"]]
        verdicts.append(
            (
                f"{row['batch_size']}x{row['seq_len']}: ternary >= {SPEEDUP_OVER_INT8_ENGINES:g}x faster than "
                "the fastest int8 engine",
                min(engines) >= SPEEDUP_OVER_INT8_ENGINES if engines else None,
            )
        )
    footprint = footprint_ratios(result)
    verdicts.append(
        (
            "peak RSS below every baseline",
            all(r["peak_rss"] < 1 for r in footprint.values()) if footprint else None,
        )
    )
    verdicts.append(
        (
            "weights smaller than every baseline",
            all(r["weights"] < 1 for r in footprint.values()) if footprint else None,
        )
    )
    return verdicts


def ann_verdicts(report: dict) -> list[Verdict]:
    """Quality, memory and latency targets on an ``ann_bench.json``."""
    verdicts: list[Verdict] = []
    for ratio in headline_ratios(report):
        name = ratio["comparison"]
        if f"+ {HNSW_BACKEND} /" in name:
            verdicts.append((f"{name} >= {HNSW_NDCG_KEPT_MIN}", ratio["ratio"] >= HNSW_NDCG_KEPT_MIN))
        elif "memory_ratio" in ratio:
            verdicts.append(
                (
                    f"{name} >= {QUANTIZED_NDCG_KEPT_MIN} at >= {QUANTIZED_MEMORY_MIN:g}x less memory",
                    ratio["ratio"] >= QUANTIZED_NDCG_KEPT_MIN
                    and ratio["memory_ratio"] >= QUANTIZED_MEMORY_MIN,
                )
            )
        elif name.startswith("end-to-end query latency"):
            verdicts.append((f"{name} <= {LATENCY_RATIO_MAX}", ratio["ratio"] <= LATENCY_RATIO_MAX))
    return verdicts


def verdicts_of(path: Path) -> list[Verdict]:
    """The verdicts for one report file, recognised by its content."""
    report = json.loads(path.read_text(encoding="utf-8"))
    return ann_verdicts(report) if "models" in report else bench_verdicts(report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="bench.json and/or ann_bench.json files")
    args = parser.parse_args(argv)
    missed = False
    for path in args.reports:
        print(path)
        for name, met in verdicts_of(path):
            print(f"  {'n/a    ' if met is None else 'met    ' if met else 'NOT met'}  {name}")
            missed |= met is False
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
