"""Retrieval quality of a model's leading dimensions: nDCG@10 at 64, 128, 256 and all dimensions.

Each truncation keeps the first N dimensions of every embedding and re-normalizes them
(``ternembed.matryoshka``), then runs the retrieval tasks through the project's evaluation runner, so
the scores are the ones ``ternembed eval`` reports. Dims at or above the model's own are skipped.

    python benchmarks/matryoshka_eval.py MODEL_OR_DIR --out DIR [--dims 64,128,256] [--tasks ...] [--size quick]

Writes ``DIR/matryoshka_eval.json`` and ``DIR/matryoshka_eval.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ternembed.eval.models import load_model
from ternembed.eval.runner import evaluate, main_scores
from ternembed.eval.tasks import TEXT_SUITE
from ternembed.matryoshka import full_dimension, set_truncate_dim

RETRIEVAL_TASKS = tuple(name for name in TEXT_SUITE if name.endswith("-retrieval"))


def evaluate_dims(
    model_name: str, dims: list[int], tasks: list[str], size: str, batch_size: int
) -> dict[str, Any]:
    """Main score of every task at every usable truncation and at the full dimension."""
    model = load_model(model_name)
    full = full_dimension(model)
    rows = []
    for dim in [d for d in dims if d < full] + [None]:
        set_truncate_dim(model, dim)
        report = evaluate(model, model_name, tasks, size=size, batch_size=batch_size)  # type: ignore[arg-type]
        scores = {name: round(float(main_scores(result)["main_score"]), 4)
                  for name, result in report.model.task_results.items()}  # fmt: skip
        rows.append({"dimension": report.model.embedding_dim, "truncated": dim is not None, "scores": scores})
        print(f"{dim or full} dims: {scores}", file=sys.stderr, flush=True)
    set_truncate_dim(model, None)
    full_scores = rows[-1]["scores"]
    for row in rows:
        row["kept"] = {name: round(score / full_scores[name], 4) if full_scores[name] else None
                       for name, score in row["scores"].items()}  # fmt: skip
    metric = {name: report.tasks[i].main_score for i, name in enumerate(tasks)}
    return {"model": model_name, "full_dimension": full, "size": size, "metric": metric, "rows": rows}


def markdown(result: dict[str, Any], command: str) -> str:
    """A table: one row per dimension, one column per task (score and share of the full score)."""
    tasks = list(result["rows"][0]["scores"])
    metrics = ", ".join(f"{name}: {metric}" for name, metric in result["metric"].items())
    lines = [
        f"# Retrieval at truncated dimensions: {result['model']}",
        "",
        f"Leading dimensions kept and re-normalized; {result['size']} task size; metrics: {metrics}.",
        f"Score (share of the full {result['full_dimension']}-dimension score).",
        "",
        "| dimensions | " + " | ".join(tasks) + " |",
        "|---|" + "---|" * len(tasks),
    ]
    for row in result["rows"]:
        cells = [f"{row['scores'][t]:.4f} ({row['kept'][t]:.1%})" if row["kept"][t] is not None
                 else f"{row['scores'][t]:.4f}" for t in tasks]  # fmt: skip
        lines.append(f"| {row['dimension']} | " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", f"Command: `{command}`", ""])


def _dims(text: str) -> list[int]:
    try:
        dims = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if not dims or dims[0] <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must list positive dimensions")
    return dims


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="model name, sentence-transformers folder or ternary folder")
    parser.add_argument("--out", required=True, help="folder for matryoshka_eval.json and .md")
    parser.add_argument("--dims", type=_dims, default=[64, 128, 256], help="truncations, e.g. 64,128,256")
    parser.add_argument("--tasks", nargs="+", default=list(RETRIEVAL_TASKS),
                        help="retrieval tasks or BEIR folders (default: the built-in retrieval tasks)")  # fmt: skip
    parser.add_argument("--size", choices=("full", "quick"), default="full", help="task size")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    result = evaluate_dims(args.model, args.dims, args.tasks, args.size, args.batch_size)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/matryoshka_eval.py " + " ".join(argv if argv is not None else sys.argv[1:])
    (out / "matryoshka_eval.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out / "matryoshka_eval.md").write_text(markdown(result, command), encoding="utf-8")
    print(markdown(result, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
