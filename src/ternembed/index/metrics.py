"""Quality of a ranked result list: nDCG@k and Recall@k against qrels (mteb's pytrec_eval convention),
k-NN recall against exact search (ann-benchmarks' recall), and a bootstrap interval over queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ternembed.errors import InvalidArgumentError


def retrieval_metrics(
    run: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    k: int = 10,
    per_query: bool = False,
) -> dict[str, Any]:
    """Mean ``ndcg_at_k`` and ``recall_at_k`` over the judged queries, computed by pytrec_eval as mteb does.

    ``run`` maps query id -> {doc id: score}; a judged query missing from ``run`` counts as 0.
    ``per_query`` adds ``per_query_ndcg_at_k``: each judged query's nDCG@k, in ``qrels`` order.
    """
    import pytrec_eval

    evaluator = pytrec_eval.RelevanceEvaluator(
        {qid: dict(docs) for qid, docs in qrels.items()}, {f"ndcg_cut.{k}", f"recall.{k}"}
    )
    scored = evaluator.evaluate({qid: dict(docs) for qid, docs in run.items() if qid in qrels})
    ndcg = [scored[qid][f"ndcg_cut_{k}"] if qid in scored else 0.0 for qid in qrels]
    judged = len(qrels)
    metrics: dict[str, Any] = {
        f"ndcg_at_{k}": sum(ndcg) / judged,
        f"recall_at_{k}": sum(scores[f"recall_{k}"] for scores in scored.values()) / judged,
    }
    if per_query:
        metrics[f"per_query_ndcg_at_{k}"] = [round(value, 6) for value in ndcg]
    return metrics


def bootstrap_ratio_interval(
    numerator: Sequence[float],
    denominator: Sequence[float],
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(numerator) / mean(denominator)`` over paired queries.

    Both sequences hold one value per query, in the same query order; each resample draws queries
    with replacement and keeps the pairs together, so it measures how much the ratio depends on
    which queries the task happened to contain.
    """
    first, second = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    if first.shape != second.shape or first.ndim != 1 or not len(first):
        raise InvalidArgumentError(
            f"bootstrap needs two equally long, non-empty per-query lists; got shapes {first.shape} and {second.shape}"
        )
    if not 0 < level < 1:
        raise InvalidArgumentError(f"level must be in (0, 1), got {level}")
    draws = np.random.default_rng(seed).integers(0, len(first), size=(resamples, len(first)))
    means = second[draws].mean(axis=1)
    ratios = first[draws].mean(axis=1)[means > 0] / means[means > 0]
    if not len(ratios):
        raise InvalidArgumentError("the denominator's per-query values are all zero; the ratio is undefined")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return float(low), float(high)


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
