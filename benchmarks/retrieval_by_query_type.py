"""nDCG@10 on ``wordnet-retrieval`` split by query type: lemma lists vs masked example sentences.

Each query has one relevant gloss, so nDCG@10 is ``1 / log2(rank + 1)`` for a rank up to 10 (else 0),
from exact cosine search; the ``all`` column equals the suite's score. Models run in the same process.
A second table gives each model's mean cosine to the first model's embedding of the same text, per
query type and for the documents (where a student's embeddings drift most).

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


def encode_task(model_name: str, retrieval) -> tuple[np.ndarray, np.ndarray]:
    """Normalized embeddings of the task's queries and documents, in ``retrieval``'s order."""
    model = load_model(model_name)
    queries = model.encode(list(retrieval.queries.values()), batch_size=64, normalize_embeddings=True)
    docs = model.encode(list(retrieval.corpus.values()), batch_size=64, normalize_embeddings=True)
    return np.asarray(queries), np.asarray(docs)


def scores_by_type(queries: np.ndarray, docs: np.ndarray, retrieval) -> dict[str, float]:
    """Mean nDCG@10 per query type (the query id's prefix) and over all queries."""
    similarity = queries @ docs.T
    position = {doc_id: i for i, doc_id in enumerate(retrieval.corpus)}
    gains: dict[str, list[float]] = {}
    for row, query_id in enumerate(retrieval.queries):
        (relevant,) = retrieval.qrels[query_id]
        rank = int((similarity[row] > similarity[row, position[relevant]]).sum()) + 1
        gain = 1 / np.log2(rank + 1) if rank <= 10 else 0.0
        gains.setdefault(query_id.split("-")[0], []).append(gain)
    result = {kind: round(float(np.mean(values)), 4) for kind, values in gains.items()}
    result["all"] = round(float(np.mean([g for values in gains.values() for g in values])), 4)
    return result


def cosine_by_type(
    embedded: tuple[np.ndarray, np.ndarray], reference: tuple[np.ndarray, np.ndarray], retrieval
) -> dict[str, float]:
    """Mean cosine to the reference's embedding of the same text, per query type and for documents."""
    query_cosines = (embedded[0] * reference[0]).sum(axis=1)
    kinds = np.array([query_id.split("-")[0] for query_id in retrieval.queries])
    result = {kind: round(float(query_cosines[kinds == kind].mean()), 4) for kind in dict.fromkeys(kinds)}
    result["documents"] = round(float((embedded[1] * reference[1]).sum(axis=1).mean()), 4)
    return result


def markdown_table(rows: dict[str, dict[str, float]], header: str, cell) -> list[str]:
    """One row per model, one column per key of the first row."""
    keys = list(next(iter(rows.values())))
    lines = [f"| {header} | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    lines += [
        f"| {name} | " + " | ".join(cell(key, row[key]) for key in keys) + " |" for name, row in rows.items()
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="models or folders; the first is the reference (teacher)")
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    retrieval = build_retrieval(load_synsets(), size="full")
    embedded = {name: encode_task(name, retrieval) for name in args.models}
    reference = embedded[args.models[0]]
    results = {name: scores_by_type(*vectors, retrieval) for name, vectors in embedded.items()}
    cosines = {name: cosine_by_type(vectors, reference, retrieval) for name, vectors in embedded.items()}
    teacher = results[args.models[0]]
    lines = markdown_table(results, "model: nDCG@10 (kept)",
                           lambda key, value: f"{value:.4f} ({100 * value / teacher[key]:.1f}%)")  # fmt: skip
    lines += ["", *markdown_table(cosines, "model: mean cosine to the first model", lambda _, v: f"{v:.4f}")]
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        name: {"ndcg_at_10": results[name], "cosine_to_reference": cosines[name]} for name in args.models
    }
    (args.out / "retrieval_by_query_type.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "retrieval_by_query_type.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
