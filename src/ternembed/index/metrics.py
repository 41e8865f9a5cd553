"""Quality of a ranked result list: nDCG@k and Recall@k against qrels (mteb's pytrec_eval convention)
and k-NN recall against exact search (ann-benchmarks' recall)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def retrieval_metrics(
    run: Mapping[str, Mapping[str, float]], qrels: Mapping[str, Mapping[str, int]], k: int = 10
) -> dict[str, float]:
    """Mean ``ndcg_at_k`` and ``recall_at_k`` over the judged queries, computed by pytrec_eval as mteb does.

    ``run`` maps query id -> {doc id: score}; a judged query missing from ``run`` counts as 0.
    """
    import pytrec_eval

    evaluator = pytrec_eval.RelevanceEvaluator(
        {qid: dict(docs) for qid, docs in qrels.items()}, {f"ndcg_cut.{k}", f"recall.{k}"}
    )
    per_query = evaluator.evaluate({qid: dict(docs) for qid, docs in run.items() if qid in qrels})
    judged = len(qrels)
    return {
        f"ndcg_at_{k}": sum(scores[f"ndcg_cut_{k}"] for scores in per_query.values()) / judged,
        f"recall_at_{k}": sum(scores[f"recall_{k}"] for scores in per_query.values()) / judged,
    }


def knn_recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of the exact top-k labels (``exact [nq, k]``) present in ``found [nq, >=k]``."""
    k = exact.shape[1]
    hits = sum(
        len(set(row[row >= 0].tolist()) & set(truth.tolist()))
        for row, truth in zip(found, exact, strict=True)
    )
    return hits / (k * len(exact))


def ranked_run(
    query_ids: Sequence[str], labels: np.ndarray, scores: np.ndarray, doc_ids: Sequence[str]
) -> dict[str, dict[str, float]]:
    """``{query id: {doc id: score}}`` from label/score matrices (label -1 = no result)."""
    return {
        qid: {doc_ids[label]: float(score) for label, score in zip(row, srow, strict=True) if label >= 0}
        for qid, row, srow in zip(query_ids, labels, scores, strict=True)
    }
