"""`ternembed eval`: score a model (and a baseline) on built-in tasks, user data or MTEB tasks."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from ternembed.cli.common_args import add_activation_argument, apply_activation_argument

NAME = "eval"
HELP = "Evaluate a model (optionally beside a baseline) on real tasks; table, JSON, Markdown and PNG report."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        nargs="?",
        help="model name, sentence-transformers folder, packed ternary folder or image-encoder folder",
    )
    parser.add_argument("--baseline", help="a second model to compare with (e.g. the full-precision teacher)")
    parser.add_argument(
        "--tasks",
        help="comma-separated task names (see --list), BEIR folders, STS or classification CSVs, or stock MTEB "
        "task names; default: the built-in text suite (fashion-mnist for image encoders)",
    )
    parser.add_argument(
        "--out", metavar="REPORT_DIR", help="write report.json, report.md, report.png and mteb results"
    )
    parser.add_argument(
        "--update-card",
        action="store_true",
        help="write the scores into the packed model folder's README.md (model-index and Evaluation table)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    parser.add_argument("--list", action="store_true", help="list the built-in tasks and exit")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small versions of the built-in tasks (a smoke test; not comparable)",
    )
    parser.add_argument("--batch-size", type=int, default=32, help="inputs per encode batch")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default: torch's choice; 1 is fastest on a busy machine)",
    )
    add_activation_argument(parser, "Scores are those of the mode the model runs in.")


def _print_task_list() -> None:
    from ternembed.eval.tasks import list_tasks

    for task in list_tasks():
        print(f"{task.name:20s} {task.modality:6s} {task.main_score:11s} {task.description}")
    print(
        "\nAlso accepted: a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv), an STS CSV "
        "(sentence1,sentence2,score), a classification CSV (text,label), or a stock MTEB task name (needs internet)."
    )


def run(args: argparse.Namespace) -> int:
    apply_activation_argument(args)
    from ternembed.cli.main import CliError

    if args.list:
        _print_task_list()
        return 0
    if not args.model:
        raise CliError("give a model to evaluate (or --list to see the tasks)")
    if args.batch_size < 1:
        raise CliError(f"--batch-size must be at least 1, got {args.batch_size}")

    if args.threads is not None:
        if args.threads < 1:
            raise CliError(f"--threads must be at least 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)

    from ternembed.eval.models import load_model
    from ternembed.eval.report import summary, table, write_report
    from ternembed.eval.runner import evaluate

    if args.update_card:
        _check_card_folder(args.model)
    if args.out:  # the report is written after the evaluation: refuse an unwritable place now
        from ternembed.io.output_folder import check_writable, resolve_output

        report_folder = resolve_output(args.out)
        if report_folder.exists() and not report_folder.is_dir():
            raise CliError(f"--out {args.out}: exists and is not a folder")
        check_writable(report_folder, into=True)
    task_names = [name.strip() for name in args.tasks.split(",") if name.strip()] if args.tasks else None
    log = (lambda message: print(message, file=sys.stderr)) if not args.json else None
    model = load_model(args.model)
    baseline = load_model(args.baseline) if args.baseline else None
    report = evaluate(
        model,
        args.model,
        task_names,
        baseline=baseline,
        baseline_name=args.baseline,
        size="quick" if args.quick else "full",
        batch_size=args.batch_size,
        log=log,
    )
    data = summary(report)
    if args.out:
        command = (
            "ternembed eval " + " ".join(shlex.quote(arg) for arg in sys.argv[2:])
            if len(sys.argv) > 2
            else None
        )
        paths = write_report(report, args.out, command)
        if log:
            log(f"report written to {paths['markdown'].parent}")
    if args.update_card:
        from pathlib import Path

        from ternembed.io.model_card import eval_results_from_report, update_model_card

        path = update_model_card(Path(args.model), eval_results_from_report(data))
        if log:
            log(f"model card updated: {path}")
    print(json.dumps(data, indent=2) if args.json else table(data))
    return 0


def _check_card_folder(model: str) -> None:
    """--update-card needs a packed ternembed folder with its model card."""
    from pathlib import Path

    from ternembed.cli.main import CliError
    from ternembed.io import NotATernaryModelError
    from ternembed.io.model_card import MODEL_CARD_FILENAME
    from ternembed.io.validate import check_folder

    try:
        root = check_folder(model)
    except (NotATernaryModelError, FileNotFoundError) as error:
        raise CliError(f"--update-card: {error}") from None
    if not (Path(root) / MODEL_CARD_FILENAME).is_file():
        raise CliError(
            f"--update-card: {root} has no {MODEL_CARD_FILENAME}; re-save the model with ternembed.save"
        )
