"""`ternembed eval`: score a model (and a baseline) on built-in tasks, user data or MTEB tasks."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

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


def _print_task_list() -> None:
    from ternembed.eval.tasks import list_tasks

    for task in list_tasks():
        print(f"{task.name:20s} {task.modality:6s} {task.main_score:11s} {task.description}")
    print(
        "\nAlso accepted: a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv), an STS CSV "
        "(sentence1,sentence2,score), a classification CSV (text,label), or a stock MTEB task name (needs internet)."
    )


def run(args: argparse.Namespace) -> int:
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
    print(json.dumps(data, indent=2) if args.json else table(data))
    return 0
