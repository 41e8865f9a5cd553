"""Score distilled students, post-training baselines and the teacher on the built-in text suite.

Usage: ``python benchmarks/distill_eval.py --out benchmarks/results/distill_eval LABEL=MODEL ...``

Each model's main scores go to ``OUT/LABEL.json`` as soon as it finishes; models whose JSON exists
are skipped, so an interrupted run continues where it stopped. ``--table`` prints the Markdown table
(score and % of the ``teacher`` label, per task and on average) from the JSON files alone.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path


def evaluate_models(pairs: list[str], out: Path, size: str, tasks: list[str] | None = None) -> None:
    from ternembed.eval.models import load_model
    from ternembed.eval.runner import evaluate, main_scores

    out.mkdir(parents=True, exist_ok=True)
    for pair in pairs:
        label, _, model_name = pair.partition("=")
        target = out / f"{label}.json"
        if target.exists():
            continue
        started = time.time()
        report = evaluate(load_model(model_name), model_name, tasks, size=size, log=print)
        scores = {
            name: main_scores(result)["main_score"] for name, result in report.model.task_results.items()
        }
        record = {"label": label, "model": model_name, "size": size, "scores": scores,
                  "weight_bytes": report.model.weight_bytes, "texts_per_second": report.model.texts_per_second,
                  "eval_seconds": round(time.time() - started, 1)}  # fmt: skip
        target.write_text(json.dumps(record, indent=2) + "\n")
        print(json.dumps(record), flush=True)


def table(out: Path, order: list[str]) -> str:
    """Markdown: one row per label, each task's score and its % of the teacher's, then the averages."""
    records = {r["label"]: r for r in (json.loads(p.read_text()) for p in sorted(out.glob("*.json")))}
    teacher = records["teacher"]["scores"]
    tasks = list(teacher)
    lines = ["| model | " + " | ".join(tasks) + " | average | % of teacher (avg) | worst task % |",
             "|---" * (len(tasks) + 4) + "|"]  # fmt: skip
    for label in order or list(records):
        if label not in records:
            continue
        scores = records[label]["scores"]
        kept = [100 * scores[t] / teacher[t] for t in tasks]
        average = sum(scores[t] for t in tasks) / len(tasks)
        cells = [f"{scores[t]:.4f} ({k:.1f}%)" for t, k in zip(tasks, kept, strict=True)]
        lines.append(
            f"| {label} | "
            + " | ".join(cells)
            + f" | {average:.4f} | {sum(kept) / len(kept):.1f}% | {min(kept):.1f}% |"
        )
    return "\n".join(lines)


def seed_table(out: Path, methods: list[str]) -> str:
    """Markdown: per method (labels ``METHOD_sSEED``), each task's mean % of the teacher and its range."""
    records = {r["label"]: r for r in (json.loads(p.read_text()) for p in sorted(out.glob("*.json")))}
    teacher = records["teacher"]["scores"]
    tasks = list(teacher)
    lines = ["| method | seeds | " + " | ".join(tasks) + " | average |", "|---" * (len(tasks) + 3) + "|"]
    for method in methods:
        runs = [r["scores"] for label, r in records.items() if re.fullmatch(rf"{re.escape(method)}_s\d+", label)]
        if not runs:
            continue
        kept = {t: [100 * run[t] / teacher[t] for run in runs] for t in tasks}
        averages = [sum(kept[t][i] for t in tasks) / len(tasks) for i in range(len(runs))]
        cells = [_mean_range(kept[t]) for t in tasks] + [_mean_range(averages)]
        lines.append(f"| {method} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _mean_range(values: list[float]) -> str:
    return f"{sum(values) / len(values):.1f}% ({min(values):.1f}-{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", metavar="LABEL=MODEL")
    parser.add_argument("--out", required=True)
    parser.add_argument("--size", default="full", choices=("full", "quick"))
    parser.add_argument("--tasks", default=None, help="comma-separated tasks (default: the built-in text suite)")
    parser.add_argument("--table", nargs="*", metavar="LABEL", help="print the table (rows in this order)")
    parser.add_argument("--seed-table", nargs="+", metavar="METHOD",
                        help="print mean and range over the seeds of labels METHOD_sSEED")  # fmt: skip
    args = parser.parse_args()
    if args.models:
        evaluate_models(args.models, Path(args.out), args.size, args.tasks.split(",") if args.tasks else None)
    if args.table is not None:
        print(table(Path(args.out), args.table))
    if args.seed_table:
        print(seed_table(Path(args.out), args.seed_table))


if __name__ == "__main__":
    main()
