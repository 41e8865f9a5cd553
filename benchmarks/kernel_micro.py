"""Single-layer timings behind the kernel choice in docs/KERNEL.md.

For the linear shapes of all-MiniLM-L6-v2 at 32 and 4096 rows (batch 1 x 32 and 32 x 128 tokens), times
torch fp32 / bf16 ``linear`` against every compiled path (portable, avx2, avx512, amx) in both
activation modes. Writes benchmarks/results/kernel_micro.{json,md}. Usage:
``python benchmarks/kernel_micro.py [--threads 1] [--repeats 15]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch

from ternembed.kernels import KERNEL_ENV, selected_kernel, ternary_linear
from ternembed.kernels.native import ISA_NAMES
from ternembed.nn import PackedTernaryLinear

SHAPES = [
    (32, 384, 384),
    (32, 384, 1536),
    (32, 1536, 384),
    (4096, 384, 384),
    (4096, 384, 1536),
    (4096, 1536, 384),
]
OUT = Path(__file__).parent / "results"


def median_ms(fn, repeats: int) -> float:  # noqa: ANN001
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    best = selected_kernel()
    isas = [isa for isa in ISA_NAMES if ISA_NAMES.index(isa) <= ISA_NAMES.index(best)]
    rows = []
    for rows_m, in_features, out_features in SHAPES:
        repeats = args.repeats if rows_m < 1000 else max(3, args.repeats // 3)
        weight, x = torch.randn(out_features, in_features), torch.randn(rows_m, in_features)
        weight_bf16 = weight.bfloat16()
        timings = {
            "torch-fp32": median_ms(lambda x=x, w=weight: torch.nn.functional.linear(x, w), repeats),
            "torch-bf16": median_ms(
                lambda x=x, w=weight_bf16: torch.nn.functional.linear(x.bfloat16(), w), repeats
            ),
        }
        for mode in ("float", "int8"):
            layer = PackedTernaryLinear.from_weight(
                weight, None, storage="2bit", group_size=0, threshold="optimal", activations=mode
            )
            for isa in isas:
                if isa in ("portable", "avx2") and rows_m > 1000:
                    continue
                os.environ[KERNEL_ENV] = isa
                timings[f"{isa}-{mode}"] = median_ms(
                    lambda x=x, layer=layer: ternary_linear(x, layer), repeats
                )
        os.environ.pop(KERNEL_ENV, None)
        rows.append(
            {"m": rows_m, "k": in_features, "n": out_features, "threads": args.threads, "ms": timings}
        )
        print(rows[-1], flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "kernel_micro.json").write_text(json.dumps(rows, indent=2))
    columns = sorted({name for row in rows for name in row["ms"]}, key=lambda n: (n.split("-")[-1], n))
    lines = ["| m x k x n | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for row in rows:
        cells = [f"{row['ms'][c]:.3f}" if c in row["ms"] else "" for c in columns]
        lines.append(f"| {row['m']}x{row['k']}x{row['n']} | " + " | ".join(cells) + " |")
    (OUT / "kernel_micro.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
