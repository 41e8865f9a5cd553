"""`ternembed search IDX "query text" [-k 10] [--json]`: query an index built by `ternembed index`."""

from __future__ import annotations

import argparse
import json

from ternembed.cli.common_args import add_activation_argument, apply_activation_argument

NAME = "search"
HELP = "Search an index folder with a text query, using the model it was built with."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("index", help="index folder written by `ternembed index`")
    parser.add_argument("query", help="query text")
    parser.add_argument("-k", type=int, default=10, help="number of results")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--model", help="search with this model instead of the one recorded in the index")
    parser.add_argument("--ef-search", type=int, help="HNSW search beam width (faiss-hnsw, usearch)")
    parser.add_argument("--nprobe", type=int, help="IVF lists searched (faiss-ivf)")
    parser.add_argument("--rescore", type=int, metavar="K", help="candidates re-ranked by the float query")
    add_activation_argument(parser)


def run(args: argparse.Namespace) -> int:
    apply_activation_argument(args)
    from ternembed.cli.main import CliError
    from ternembed.index import SearchIndex, load_model

    for name, low in (("k", 1), ("ef_search", 1), ("nprobe", 1), ("rescore", 0)):
        value = getattr(args, name)
        if value is not None and value < low:
            flag = "-k" if name == "k" else f"--{name.replace('_', '-')}"
            raise CliError(f"{flag} must be at least {low}, got {value}")
    model = load_model(args.model) if args.model else None
    index = SearchIndex.load(args.index, model=model)
    params = {
        name: getattr(args, name)
        for name in ("ef_search", "nprobe", "rescore")
        if getattr(args, name) is not None
    }
    index.set_params(**params)
    (ids,), (scores,) = index.search(args.query, k=args.k)
    if args.json:
        results = [{"id": doc_id, "score": score} for doc_id, score in zip(ids, scores, strict=True)]
        print(
            json.dumps({"query": args.query, "k": args.k, "results": results}, ensure_ascii=False, indent=2)
        )
    else:
        for rank, (doc_id, score) in enumerate(zip(ids, scores, strict=True), start=1):
            print(f"{rank:>3}  {score:8.4f}  {printable_id(doc_id)}")
    return 0


def printable_id(doc_id: str) -> str:
    """The id as is when it is plain text, else JSON-quoted, so an id cannot forge output lines."""
    plain = doc_id.isprintable() and doc_id == doc_id.strip() and doc_id != ""
    return doc_id if plain else json.dumps(doc_id, ensure_ascii=False)
