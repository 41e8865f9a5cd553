"""`ternembed search IDX "query text" | --queries FILE [-k 10] [--json]`: query an index built by `ternembed index`."""

from __future__ import annotations

import argparse
import json
import sys

from ternembed.cli.common_args import add_activation_argument, apply_activation_argument

NAME = "search"
HELP = "Search an index folder with text queries, using the model it was built with."
SNIPPET_CHARS = 80
"""Characters of each hit's text shown in plain output (whitespace collapsed)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("index", help="index folder written by `ternembed index`")
    parser.add_argument("query", nargs="?", help="query text (or give --queries)")
    parser.add_argument("--queries", metavar="FILE",
                        help="text file with one query per line ('-' reads standard input); blank lines skipped")  # fmt: skip
    parser.add_argument("-k", type=int, default=10, help="number of results")
    parser.add_argument("--json", action="store_true",
                        help="print JSON: one object for a query, one line per query with --queries")  # fmt: skip
    parser.add_argument("--model", help="search with this model instead of the one recorded in the index")
    parser.add_argument("--ef-search", type=int, help="HNSW search beam width (faiss-hnsw, usearch)")
    parser.add_argument("--nprobe", type=int, help="IVF lists searched (faiss-ivf)")
    parser.add_argument("--rescore", type=int, metavar="K", help="candidates re-ranked by the float query")
    parser.add_argument("--batch-size", type=int, default=64, help="queries encoded at a time with --queries")
    add_activation_argument(parser)


def run(args: argparse.Namespace) -> int:
    apply_activation_argument(args)
    from ternembed.cli.main import CliError
    from ternembed.index import SearchIndex, load_model

    for name, low in (("k", 1), ("ef_search", 1), ("nprobe", 1), ("rescore", 0), ("batch_size", 1)):
        value = getattr(args, name)
        if value is not None and value < low:
            flag = "-k" if name == "k" else f"--{name.replace('_', '-')}"
            raise CliError(f"{flag} must be at least {low}, got {value}")
    if (args.query is None) == (args.queries is None):
        raise CliError("give either a query text or --queries FILE")
    queries = [args.query] if args.queries is None else read_queries(args.queries)
    model = load_model(args.model) if args.model else None
    index = SearchIndex.load(args.index, model=model)
    params = {
        name: getattr(args, name)
        for name in ("ef_search", "nprobe", "rescore")
        if getattr(args, name) is not None
    }
    index.set_params(**params)
    for start in range(0, len(queries), args.batch_size):
        batch = queries[start : start + args.batch_size]
        all_ids, all_scores = index.search(batch, k=args.k)
        for number, (query, ids, scores) in enumerate(zip(batch, all_ids, all_scores, strict=True), start + 1):
            hits = [_hit(index, doc_id, score) for doc_id, score in zip(ids, scores, strict=True)]
            if args.json:
                record = {"query": query, "k": args.k, "results": hits}
                print(json.dumps(record, ensure_ascii=False, indent=None if args.queries else 2))
            else:
                if args.queries is not None:
                    if number > 1:
                        print()
                    print(f"query {number}: {_snippet(query)}")
                for rank, hit in enumerate(hits, start=1):
                    snippet = f"  {_snippet(hit['text'])}" if hit.get("text") else ""
                    print(f"{rank:>3}  {hit['score']:8.4f}  {printable_id(hit['id'])}{snippet}")
    return 0


def read_queries(path: str) -> list[str]:
    """Non-blank lines of a UTF-8 text file (or standard input for ``-``), stripped."""
    from ternembed.cli.main import CliError

    try:
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
    except FileNotFoundError:
        raise CliError(f"--queries {path!r} does not exist") from None
    except IsADirectoryError:
        raise CliError(f"--queries {path!r} is a folder; give a text file with one query per line") from None
    except UnicodeDecodeError as problem:
        raise CliError(f"--queries {path!r} is not valid UTF-8 text ({problem.reason} at byte {problem.start})") from None
    queries = [line.strip() for line in lines if line.strip()]
    if not queries:
        raise CliError(f"--queries {path!r} has no queries (one per line)")
    return queries


def _hit(index, doc_id: str, score: float) -> dict:  # noqa: ANN001 - a SearchIndex
    hit = {"id": doc_id, "score": float(score)}
    text = index.payloads.text(doc_id)
    if text is not None:
        hit["text"] = text
    metadata = index.payloads.metadata(doc_id)
    if metadata:
        hit["metadata"] = metadata
    return hit


def _snippet(text: str) -> str:
    """``text`` on one line, printable, cut to SNIPPET_CHARS with an ellipsis."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


def printable_id(doc_id: str) -> str:
    """The id as is when it is plain text, else JSON-quoted, so an id cannot forge output lines."""
    plain = doc_id.isprintable() and doc_id == doc_id.strip() and doc_id != ""
    return doc_id if plain else json.dumps(doc_id, ensure_ascii=False)
