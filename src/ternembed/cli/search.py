"""`ternembed search IDX "query text" [-k 10] [--json]`: query an index built by `ternembed index`."""

from __future__ import annotations

import argparse

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


def run(args: argparse.Namespace) -> int:
    import json

    from ternembed.index import SearchIndex, load_model

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
            print(f"{rank:>3}  {score:8.4f}  {doc_id}")
    return 0
