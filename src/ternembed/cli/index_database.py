"""`ternembed index --backend chroma|lancedb|qdrant`: write a corpus straight into a vector database."""

from __future__ import annotations

import argparse
import time

from ternembed.cli.main import CliError

ANN_ONLY_OPTIONS = ("rescore", "m", "ef_construction", "ef_search", "nlist", "nprobe")
"""Options of the faiss/usearch index folders that a database backend does not take."""


def check_ann_options(args: argparse.Namespace) -> None:
    """Refuse the database-only options with a faiss/usearch backend."""
    from ternembed.integrations import DATABASE_NAMES

    if args.collection is not None or args.overwrite:
        raise CliError(
            f"--collection and --overwrite apply to the {', '.join(DATABASE_NAMES)} backends, not to {args.backend}"
        )


def run_database_index(args: argparse.Namespace) -> int:
    """Index ``args.corpus`` into the database ``args.backend`` at ``args.out``; print one summary line."""
    from ternembed.integrations.common import IntegrationUnavailableError
    from ternembed.integrations.ingest import DEFAULT_COLLECTION, write_corpus

    given = [name for name in ANN_ONLY_OPTIONS if getattr(args, name) is not None]
    if args.rescore_from != "codes":
        given.append("rescore_from")
    if given:
        option = "--" + given[0].replace("_", "-")
        raise CliError(f"{option} applies to the faiss and usearch backends, not to {args.backend}")
    start = time.perf_counter()
    try:
        result = write_corpus(
            args.model,
            args.corpus,
            args.backend,
            args.out,
            collection=args.collection or DEFAULT_COLLECTION,
            overwrite=args.overwrite,
            precision=args.precision,
            batch_size=args.batch_size,
            id_field=args.id_field,
            text_field=args.text_field,
        )
    except IntegrationUnavailableError as error:
        raise CliError(str(error)) from error
    kind = "table" if result.backend == "lancedb" else "collection"
    print(
        f"indexed {result.count} documents into {result.backend} {kind} {result.collection!r} at "
        f"{result.location} in {time.perf_counter() - start:.1f}s: {result.dimension} dims, {result.precision}"
    )
    return 0
