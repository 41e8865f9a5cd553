"""`ternembed embed MODEL CORPUS --out VECTORS.parquet`: embed a corpus of any size to Parquet."""

from __future__ import annotations

import argparse

from ternembed.cli.common_args import add_activation_argument, apply_activation_argument
from ternembed.errors import InvalidArgumentError

NAME = "embed"
HELP = "Embed a corpus (JSON lines, CSV, Parquet or a saved dataset) to a Parquet file of vectors."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ternembed.embed import DEFAULT_CHUNK_SIZE, ENGINES
    from ternembed.index.precision import PRECISIONS

    parser.add_argument("model", help="model name, sentence-transformers folder or ternary folder")
    parser.add_argument("corpus", help=".jsonl, .csv or .parquet file, or a datasets save_to_disk folder")
    parser.add_argument("--out", required=True, help="output .parquet file (columns id, vector, payload)")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="stored vectors: float32, int8 (scale in the schema metadata) or packed sign bits")  # fmt: skip
    parser.add_argument("--id-field", default="id", help="field holding the record id")
    parser.add_argument("--text-field", default="text", help="field holding the text to embed")
    parser.add_argument("--truncate-dim", type=int, metavar="N",
                        help="keep the first N dimensions, re-normalized (Matryoshka)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=32, help="encoding batch size")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
                        help="records per part file; a resumed run restarts at the first unfinished chunk")  # fmt: skip
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run of the same --out")
    parser.add_argument("--overwrite", action="store_true", help="replace a finished --out, or start over")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--threads", type=int, help="torch threads of the local engine")
    ray = parser.add_argument_group("ray")
    ray.add_argument("--engine", choices=ENGINES, default="local",
                     help="local: this process; ray: Ray Data actors, each loading the model once")  # fmt: skip
    ray.add_argument("--ray-address", metavar="ADDRESS",
                     help="Ray cluster to join (e.g. ray://head:10001 or auto); default $RAY_ADDRESS, "
                          "else a local Ray instance")  # fmt: skip
    ray.add_argument("--actors", type=int, default=1, help="model-holding Ray actors")
    ray.add_argument("--cpus-per-actor", type=int, default=1, help="CPUs (torch threads) per actor")
    add_activation_argument(parser)


def run(args: argparse.Namespace) -> int:
    apply_activation_argument(args)
    from ternembed.embed import RaySettings, embed_corpus

    if args.engine == "ray":
        try:
            import ray  # noqa: F401  (an optional dependency)
        except ImportError:
            from ternembed.cli.main import CliError

            raise CliError("--engine ray needs Ray Data: pip install 'ternembed[integrations]'") from None
    for name in ("actors", "cpus_per_actor"):
        if getattr(args, name) < 1:
            raise InvalidArgumentError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    result = embed_corpus(
        args.model,
        args.corpus,
        args.out,
        precision=args.precision,
        id_field=args.id_field,
        text_field=args.text_field,
        truncate_dim=args.truncate_dim,
        batch_size=args.batch_size,
        chunk_size=args.chunk_size,
        engine=args.engine,
        ray_settings=RaySettings(args.ray_address, args.actors, args.cpus_per_actor),
        threads=args.threads,
        resume=args.resume,
        overwrite=args.overwrite,
        show_progress=not args.no_progress,
    )
    rate = result.rows_this_session / result.seconds if result.seconds > 0 else 0.0
    print(
        f"embedded {result.rows} records into {result.out}: {result.dimension} dims, {result.precision} "
        f"({result.rows_this_session} this run, {rate:.0f} records/s)"
    )
    return 0
