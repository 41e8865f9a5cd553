"""nDCG@10 on ``wordnet-retrieval`` split by query type: lemma lists vs masked example sentences.

Each query has one relevant gloss, so nDCG@10 is ``1 / log2(rank + 1)`` for a rank up to 10 (else 0),
from exact cosine search; the ``all`` column equals the suite's score. Models run in the same process.

    python benchmarks/retrieval_by_query_type.py all-MiniLM-L6-v2 runs/gcide/all_seed0 --out DIR

Writes ``DIR/retrieval_by_query_type.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from ternembed.data.wordnet import load_synsets
from ternembed.eval.models import load_model
from ternembed.eval.wordnet_tasks import build_retrieval


def scores_by_type(model_name: str, retrieval) -> dict[str, float]:
    """Mean nDCG@10 per query type (the query id's prefix) and over all queries."""
    model = load_model(model_name)
    doc_ids = list(retrieval.corpus)
    query_ids = list(retrieval.queries)
    docs = model.encode([retrieval.corpus[d] for d in doc_ids], batch_size=64, normalize_embeddings=True)
    queries = model.encode(
        [retrieval.queries[q] for q in query_ids], batch_size=64, normalize_embeddings=True
    )
    similarity = np.asarray(queries) @ np.asarray(docs).T
    position = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    gains: dict[str, list[float]] = {}
    for row, query_id in enumerate(query_ids):
        (relevant,) = retrieval.qrels[query_id]
        rank = int((similarity[row] > similarity[row, position[relevant]]).sum()) + 1
        gain = 1 / np.log2(rank + 1) if rank <= 10 else 0.0
        gains.setdefault(query_id.split("-")[0], []).append(gain)
    result = {kind: round(float(np.mean(values)), 4) for kind, values in gains.items()}
    result["all"] = round(float(np.mean([g for values in gains.values() for g in values])), 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="models or folders; the first is the reference (teacher)")
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    retrieval = build_retrieval(load_synsets(), size="full")
    results = {name: scores_by_type(name, retrieval) for name in args.models}
    reference = results[args.models[0]]
    kinds = list(reference)
    lines = [
        "| model | " + " | ".join(f"{kind} (kept)" for kind in kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for name, scores in results.items():
        cells = [f"{scores[k]:.4f} ({100 * scores[k] / reference[k]:.1f}%)" for k in kinds]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "retrieval_by_query_type.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "retrieval_by_query_type.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
