"""`ternembed index MODEL_OR_DIR --corpus docs.jsonl --out IDX`: embed a corpus and save an ANN index."""

from __future__ import annotations

import argparse

from ternembed.cli.common_args import add_activation_argument, apply_activation_argument

NAME = "index"
HELP = (
    "Embed a corpus (JSON lines, CSV, Parquet) with a model and save an ANN index folder (faiss or usearch) "
    "or write it into a vector database (chroma, lancedb, qdrant)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ternembed.index.backends import BACKEND_NAMES, DEFAULT_BACKEND
    from ternembed.index.backends.base import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M
    from ternembed.index.precision import PRECISIONS
    from ternembed.index.rescore_store import RESCORE_FROM
    from ternembed.integrations import DATABASE_NAMES

    parser.add_argument("model", help="model name, sentence-transformers folder or ternary folder")
    parser.add_argument("--corpus", required=True, help="corpus: .jsonl (one {id, text, ...} object per line), .csv or .parquet file, or a datasets folder")
    parser.add_argument("--out", required=True, help="index folder to write (an existing index is replaced)")
    parser.add_argument(
        "--backend",
        choices=BACKEND_NAMES + DATABASE_NAMES,
        default=DEFAULT_BACKEND,
        help="ANN library/structure, or a vector database written at --out (a folder; qdrant: or a URL)",
    )
    parser.add_argument("--collection", help="database collection/table name (default 'documents')")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing database collection of that name"
    )
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="float32", help="stored embedding precision"
    )
    parser.add_argument(
        "--rescore",
        type=int,
        metavar="K",
        help="re-rank the top K candidates with the float query (default 40 for int8/binary, 0 for float32)",
    )
    parser.add_argument(
        "--rescore-from",
        choices=RESCORE_FROM,
        default="codes",
        help="rescore against the index's own codes, or extra int8/float32 vectors kept on disk (memory-mapped)",
    )
    parser.add_argument("--batch-size", type=int, default=32, help="encoding batch size")
    parser.add_argument(
        "--truncate-dim",
        type=int,
        metavar="N",
        help="keep the first N dimensions, re-normalized (Matryoshka)",
    )
    parser.add_argument("--id-field", default="id", help="field (column) holding the document id")
    parser.add_argument("--text-field", default="text", help="field (column) holding the document text")
    parser.add_argument(
        "--m", type=int, help=f"HNSW neighbours per node (faiss-hnsw, usearch; default {HNSW_M})"
    )
    parser.add_argument(
        "--ef-construction", type=int, help=f"HNSW build beam width (default {HNSW_EF_CONSTRUCTION})"
    )
    parser.add_argument("--ef-search", type=int, help=f"HNSW search beam width (default {HNSW_EF_SEARCH})")
    parser.add_argument("--nlist", type=int, help="IVF lists (faiss-ivf; default 4 sqrt(n))")
    parser.add_argument("--nprobe", type=int, help="IVF lists searched (faiss-ivf; default 16)")
    add_activation_argument(parser)


def run(args: argparse.Namespace) -> int:
    apply_activation_argument(args)
    import time

    from ternembed.cli.index_database import check_ann_options, run_database_index
    from ternembed.index import build_index
    from ternembed.integrations import DATABASE_NAMES

    if args.backend in DATABASE_NAMES:
        return run_database_index(args)
    check_ann_options(args)

    options = ("m", "ef_construction", "ef_search", "nlist", "nprobe")
    params = {name: getattr(args, name) for name in options if getattr(args, name) is not None}
    start = time.perf_counter()
    index = build_index(
        args.model,
        args.corpus,
        args.out,
        backend=args.backend,
        precision=args.precision,
        rescore=args.rescore,
        rescore_from=args.rescore_from,
        batch_size=args.batch_size,
        id_field=args.id_field,
        text_field=args.text_field,
        truncate_dim=args.truncate_dim,
        **params,
    )
    print(
        f"indexed {len(index)} documents into {args.out} in {time.perf_counter() - start:.1f}s: "
        f"{index.backend.name}, {index.precision}, {index.dimension} dims, {index.bytes_per_vector} B/vector codes, "
        f"{index.index_bytes_per_vector:.0f} B/vector index, search params {index.get_params()}"
    )
    return 0
