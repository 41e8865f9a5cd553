"""`ternembed bench-ann MODEL_OR_DIR --task NAME_OR_BEIR_DIR`: ANN quality, speed and memory vs exact search."""

from __future__ import annotations

import argparse

from ternembed.cli.common_args import add_activation_argument, apply_activation_argument

NAME = "bench-ann"
HELP = (
    "Benchmark ANN search with a model (and a baseline): nDCG@10/Recall@10 vs exact search, QPS sweeps, "
    "build time, bytes per vector, end-to-end latency; writes JSON, Markdown and a Pareto PNG."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ternembed.index.backends import BACKEND_NAMES
    from ternembed.index.backends.base import HNSW_EF_CONSTRUCTION, HNSW_M
    from ternembed.index.precision import PRECISIONS
    from ternembed.models import DEFAULT_MODEL

    parser.add_argument(
        "model", help="model under test: name, sentence-transformers folder or ternary folder"
    )
    parser.add_argument(
        "--task",
        required=True,
        help="'wordnet-retrieval' or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)",
    )
    parser.add_argument(
        "--baseline",
        default=DEFAULT_MODEL,
        help=f"reference model, usually the teacher (default {DEFAULT_MODEL})",
    )
    parser.add_argument("--no-baseline", action="store_true", help="benchmark the model alone")
    parser.add_argument(
        "--out", default="ann-report", help="report folder (ann_bench.json, ann_bench.md, ann_pareto.png)"
    )
    parser.add_argument("--backends", nargs="+", choices=BACKEND_NAMES, default=list(BACKEND_NAMES))
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=list(PRECISIONS))
    parser.add_argument(
        "--rescore",
        type=int,
        nargs="+",
        default=[40],
        metavar="K",
        help="candidate counts re-ranked for int8/binary (one curve each)",
    )
    parser.add_argument("--m", type=int, default=HNSW_M, help=f"HNSW neighbours per node (default {HNSW_M})")
    parser.add_argument(
        "--ef-construction",
        type=int,
        default=HNSW_EF_CONSTRUCTION,
        help=f"HNSW build beam width (default {HNSW_EF_CONSTRUCTION})",
    )
    parser.add_argument("--size", choices=("full", "quick"), default="full", help="size of built-in tasks")
    parser.add_argument(
        "--timing-queries", type=int, default=300, help="queries timed one at a time per operating point"
    )
    parser.add_argument("--batch-size", type=int, default=64, help="encoding batch size")
    add_activation_argument(parser)
    parser.add_argument(
        "--latency-queries",
        type=int,
        default=50,
        help="queries timed one at a time, encode + search, per model",
    )


def run(args: argparse.Namespace) -> int:
    import shlex

    from ternembed.index.bench import BenchSettings, run_bench
    from ternembed.index.report import write_report

    same_model = args.baseline == args.model
    settings = BenchSettings(
        backends=tuple(args.backends),
        precisions=tuple(args.precisions),
        rescore=tuple(args.rescore),
        timing_queries=args.timing_queries,
        latency_queries=args.latency_queries,
        batch_size=args.batch_size,
        hnsw_m=args.m,
        hnsw_ef_construction=args.ef_construction,
    )
    apply_activation_argument(args)
    model = args.model
    if args.activations:
        from ternembed.index.model_ref import load_model
        from ternembed.quantize import set_activations

        model = set_activations(load_model(args.model), args.activations)
    report = run_bench(
        model,
        args.task,
        model_name=f"{args.model} ({args.activations} activations)" if args.activations else None,
        baseline=None if args.no_baseline or same_model else args.baseline,
        settings=settings,
        task_size=args.size,
    )
    command = shlex.join(
        ["ternembed", "bench-ann", args.model, "--task", args.task]
        + (["--no-baseline"] if args.no_baseline else ["--baseline", args.baseline])
        + [
            "--backends",
            *args.backends,
            "--precisions",
            *args.precisions,
            "--rescore",
            *map(str, args.rescore),
            "--m",
            str(args.m),
            "--ef-construction",
            str(args.ef_construction),
        ]
        + ["--size", args.size, "--out", args.out]
        + (["--activations", args.activations] if args.activations else [])
    )
    paths = write_report(report, args.out, command=command)
    for ratio in report["ratios"]:
        print(f"{ratio['comparison']}: {ratio['ratio']:.3f} ({ratio['detail']})")
    print(f"wrote {paths['markdown']}, {paths['json']} and {paths['plot']}")
    return 0
