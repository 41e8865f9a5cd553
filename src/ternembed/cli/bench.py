"""`ternembed bench`: latency, throughput, memory and size of a ternary model against its baselines."""

from __future__ import annotations

import argparse
from pathlib import Path

from ternembed.cli.common_args import add_activation_argument, apply_activation_argument

NAME = "bench"
HELP = ("benchmark a ternary model against torch fp32/bf16/int8, ONNX Runtime int8 (per tensor and per channel) "
        "and OpenVINO fp32/int8 on CPU")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ternembed.perf.variants import VARIANTS

    parser.add_argument(
        "model",
        metavar="MODEL_OR_DIR",
        help="packed ternary folder (or a full-precision model with --ternarize)",
    )
    parser.add_argument(
        "--baseline",
        help="full-precision model for the baselines (default: MODEL_OR_DIR with --ternarize, else the base model named by the packed folder, else the default model)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench"), help="output folder (default: ./bench)")
    parser.add_argument("--threads", type=int, default=2, help="threads for every variant (default: 2)")
    parser.add_argument(
        "--repeats", type=int, default=10, help="timed calls per shape, median reported (default: 10)"
    )
    parser.add_argument("--quick", action="store_true", help="only batch 1x32 and 32x128 tokens")
    parser.add_argument(
        "--ternarize",
        action="store_true",
        help="ternarize MODEL_OR_DIR in memory instead of loading a packed folder",
    )
    add_activation_argument(parser)
    parser.add_argument(
        "--separate",
        action="store_true",
        help="time all calls of one variant in a row instead of in interleaved rounds (each variant has its own process either way)",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=VARIANTS,
        default=list(VARIANTS),
        help="variants to measure (default: all)",
    )


def run(args: argparse.Namespace) -> int:
    from ternembed.cli.main import CliError
    from ternembed.models import resolve_model
    from ternembed.perf import BenchSettings, run_bench
    from ternembed.perf.report import speedup_lines
    from ternembed.vision.models import is_image_model
    from ternembed.workflow import runtime_activations

    if args.threads < 1 or args.repeats < 1:
        raise CliError(f"--threads and --repeats must be at least 1, got {args.threads} and {args.repeats}")
    model = resolve_model(args.model) if args.ternarize else str(Path(args.model).expanduser().resolve())
    if not args.ternarize and not Path(model).is_dir():
        raise CliError(
            f"{args.model!r} is not a packed ternary folder; pass --ternarize to ternarize a model in memory"
        )
    baseline = args.baseline or (args.model if args.ternarize else base_model_of(model))
    if is_image_model(model):
        return _bench_image_encoder(model, baseline, args)
    settings = BenchSettings(
        model=model,
        baseline=baseline,
        out=args.out,
        threads=args.threads,
        repeats=args.repeats,
        quick=args.quick,
        ternarize=args.ternarize,
        activations=runtime_activations(apply_activation_argument(args), trained="float"),
        interleaved=not args.separate,
        variants=tuple(args.variants),
    )
    result = run_bench(settings)
    for line in speedup_lines(result):
        print(line)
    print(f"wrote {args.out / 'bench.json'}, bench.md and bench.png")
    return 0


def _bench_image_encoder(model: str, baseline: str | None, args: argparse.Namespace) -> int:
    """Image encoders: ternary vs torch fp32 and bf16 of the baseline, at batch 1, 8 and 32."""
    from ternembed.cli.main import CliError
    from ternembed.vision.bench import run_image_bench
    from ternembed.vision.models import load_image_model

    if baseline is None:
        raise CliError(f"{model!r} names no base model; pass --baseline with the full-precision image model")
    student = load_image_model(model)
    if args.ternarize:
        from ternembed.vision import freeze_image_encoder, prepare_image_encoder
        from ternembed.vision.models import default_image_config

        config = default_image_config(student)
        freeze_image_encoder(prepare_image_encoder(student, config), config)
    run_image_bench(
        student,
        load_image_model(baseline),
        args.out,
        model_name=model,
        baseline_name=str(baseline),
        threads=args.threads,
        repeats=args.repeats,
    )
    print(f"wrote {args.out / 'bench.json'}, bench.md and bench.png")
    return 0


def base_model_of(folder: str) -> str | None:
    """The full-precision model a packed folder was made from, when its manifest names one."""
    from ternembed.io import inspect_folder

    return inspect_folder(folder).base_model
