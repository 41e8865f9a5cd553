"""Quality cost of int8 per-token activations (W1.58A8) on a packed ternary text model.

Loads the same packed folder twice, switches every ternary layer of one copy to int8 activations,
and runs the built-in suite on both in one run (the float-activation copy is the baseline).
Writes ``activation_int8_quality.json`` and ``.md`` to ``--out``.

    python benchmarks/activation_int8_quality.py runs/minilm-ternary --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

import ternembed  # noqa: E402
from ternembed.eval.report import markdown, summary  # noqa: E402
from ternembed.eval.runner import evaluate  # noqa: E402
from ternembed.quantize import set_activations  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a packed ternary text-model folder (float activations)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    exact = ternembed.load(args.folder)
    int8 = set_activations(ternembed.load(args.folder), "int8")
    report = evaluate(int8, f"{args.folder} (int8 activations)", baseline=exact, baseline_name=args.folder)
    data = summary(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "activation_int8_quality.json").write_text(json.dumps(data, indent=2))
    command = f"python benchmarks/activation_int8_quality.py {args.folder} --out {args.out}"
    (args.out / "activation_int8_quality.md").write_text(markdown(data, command))
    print(markdown(data, command))


if __name__ == "__main__":
    main()
