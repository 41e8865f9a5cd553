"""Quality cost of int8 per-token activations (W1.58A8) on a packed ternary text model.

Loads the same packed folder twice, switches every ternary layer of one copy to int8 activations,
and runs the built-in suite on both in one run (the float-activation copy is the baseline).
Writes ``activation_int8_quality.json`` and ``.md`` to ``--out`` (``--name`` changes the file stem).

    python benchmarks/activation_int8_quality.py runs/minilm-ternary --out benchmarks/results
    python benchmarks/activation_int8_quality.py runs/minilm-ternary \
        --tasks manpages-retrieval,kernel-docs-retrieval,kernel-docs-topics --name activation_int8_quality_ood
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a packed ternary text-model folder (float activations)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tasks", help="comma-separated task names (default: the built-in text suite)")
    parser.add_argument("--name", default="activation_int8_quality", help="stem of the JSON and Markdown files")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tasks = [name.strip() for name in args.tasks.split(",") if name.strip()] if args.tasks else None

    exact = ternembed.load(args.folder, activations="float")
    int8 = ternembed.load(args.folder, activations="int8")
    report = evaluate(
        int8, f"{args.folder} (int8 activations)", tasks, baseline=exact, baseline_name=f"{args.folder} (float)"
    )
    data = summary(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(data, indent=2))
    command = " ".join(["python benchmarks/activation_int8_quality.py", args.folder, "--out", str(args.out)])
    command += (f" --tasks {args.tasks}" if args.tasks else "") + f" --name {args.name}"
    (args.out / f"{args.name}.md").write_text(markdown(data, command))
    print(markdown(data, command))


if __name__ == "__main__":
    main()
