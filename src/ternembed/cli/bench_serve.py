"""`ternembed bench-serve MODEL_DIR [--baseline MODEL] [--index NAME=DIR]`: load-test the HTTP server on loopback."""

from __future__ import annotations

import argparse
from pathlib import Path

from ternembed.cli.common_args import add_activation_argument, apply_activation_argument

NAME = "bench-serve"
HELP = (
    "Load-test `ternembed serve` on loopback: throughput and p50/p95/p99 latency of /v1/embeddings and "
    "/v1/search at several concurrencies, the model against its full-precision baseline and with batching "
    "off; writes JSON, Markdown and a PNG."
)


def _counts(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {value!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {value!r}")
    return counts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="ternary folder (or any model `ternembed serve` takes)")
    parser.add_argument("--baseline", help="full-precision model served for comparison (default: the "
                        "base model named by the ternary folder)")  # fmt: skip
    parser.add_argument("--no-baseline", action="store_true", help="do not serve a baseline")
    parser.add_argument("--index", action="append", default=[], metavar="NAME=DIR",
                        help="index built with MODEL, for the /v1/search scenario (repeatable)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("serve-bench"), help="report folder (default ./serve-bench)")
    parser.add_argument("--concurrency", type=_counts, default=(1, 8, 64), metavar="N,N,...",
                        help="concurrent clients per scenario (default 1,8,64)")  # fmt: skip
    parser.add_argument("--texts-per-request", type=_counts, default=(1, 32), metavar="N,N,...",
                        help="inputs per /v1/embeddings request (default 1,32)")  # fmt: skip
    parser.add_argument("--requests", type=int, default=2000, help="the most requests per scenario")
    parser.add_argument("--seconds", type=float, default=20.0, help="the most seconds per scenario")
    parser.add_argument("--threads", type=int, default=2, help="--threads of every server (default 2)")
    parser.add_argument("--no-batching-off", action="store_true",
                        help="skip the server with batching off (used to show what batching gives)")  # fmt: skip
    add_activation_argument(parser)


def run(args: argparse.Namespace) -> int:
    from ternembed.cli.main import CliError
    from ternembed.cli.serve import parse_index_option
    from ternembed.io.fidelity_check import builtin_sentences
    from ternembed.perf.serve_load import ServeBenchSettings, ServerSpec, run_serve_bench

    if args.requests < 1 or args.seconds <= 0 or args.threads < 1:
        raise CliError("--requests and --threads must be at least 1 and --seconds positive")
    apply_activation_argument(args)  # exported to the server processes through the environment
    indexes = tuple((name, str(folder)) for name, folder in map(parse_index_option, args.index))
    baseline = None if args.no_baseline else args.baseline or _recorded_base_model(args.model)
    if not args.no_baseline and baseline is None:
        raise CliError(f"{args.model!r} names no base model; pass --baseline MODEL or --no-baseline")
    servers = [ServerSpec("ternary", args.model, True, indexes)]
    comparisons = []
    if baseline is not None:
        servers.insert(0, ServerSpec("baseline", baseline, True))
        comparisons.append(("ternary", "baseline"))
    if not args.no_batching_off:
        servers.append(ServerSpec("ternary, batching off", args.model, False))
        comparisons.append(("ternary", "ternary, batching off"))
    settings = ServeBenchSettings(
        servers=servers, texts=builtin_sentences(), out=args.out, concurrency=args.concurrency,
        texts_per_request=args.texts_per_request, requests=args.requests, seconds=args.seconds,
        threads=args.threads, comparisons=tuple(comparisons),
    )  # fmt: skip
    result = run_serve_bench(settings)
    for ratio in result["ratios"]:
        print(f"{ratio['server']} vs {ratio['against']}, {ratio['endpoint']} x{ratio['texts_per_request']} at "
              f"concurrency {ratio['concurrency']}: {ratio['throughput_x']:.2f}x throughput, "
              f"{ratio['p99_x']:.2f}x lower p99")  # fmt: skip
    print(f"wrote {args.out / 'serve_bench.json'}, serve_bench.md and serve_bench.png")
    return 0


def _recorded_base_model(model: str) -> str | None:
    """The base model a packed folder names; None for anything else (a name, a full-precision folder)."""
    from ternembed.cli.bench import base_model_of

    try:
        return base_model_of(model) if Path(model).is_dir() else None
    except (OSError, ValueError):  # not a packed folder
        return None
