"""Search that returns documents: metadata filters, excluded ids, stored vectors by id, compaction.

Filters are applied to the ANN candidates, fetching more candidates (doubling, up to the whole index)
until ``k`` documents pass, so a selective filter still returns its best matches.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ternembed.index.backends import create_backend
from ternembed.index.filters import Predicate

if TYPE_CHECKING:
    from ternembed.index.search_index import SearchIndex

Hit = tuple[str, float]


def search_documents(
    index: SearchIndex,
    queries: np.ndarray,
    k: int,
    predicate: Predicate | None = None,
    exclude: Collection[str] = (),
) -> list[list[Hit]]:
    """Top-``k`` ``(id, score)`` per query among documents whose metadata passes ``predicate``, minus ``exclude``."""
    results = []
    for query in np.atleast_2d(queries):
        results.append(_search_one(index, query[None, :], k, predicate, exclude))
    return results


def _search_one(
    index: SearchIndex, query: np.ndarray, k: int, predicate: Predicate | None, exclude: Collection[str]
) -> list[Hit]:
    total = len(index)
    fetch = (
        min(k + len(exclude), max(total, 1))
        if predicate is None
        else min(4 * k + len(exclude), max(total, 1))
    )
    while True:
        (ids,), (scores,) = index.search_vectors(query, fetch)
        hits = [
            (doc_id, score)
            for doc_id, score in zip(ids, scores, strict=True)
            if doc_id not in exclude and (predicate is None or predicate(index.payloads.metadata(doc_id)))
        ]
        if len(hits) >= k or fetch >= total:
            return hits[:k]
        fetch = min(2 * fetch, total)


def stored_vectors(index: SearchIndex, doc_ids: Sequence[str]) -> np.ndarray:
    """float32 ``[n, d]`` stored vectors of documents (int8 dequantized, binary as signs), KeyError if unknown."""
    labels = np.array([index.label(doc_id) for doc_id in doc_ids], dtype=np.int64)
    if index.rescore_store is not None:
        return np.asarray(index.rescore_store.vectors(labels), dtype=np.float32)
    return index.backend.reconstruct(labels)


def compacted_parts(index: SearchIndex) -> tuple[Any, list[str | None], Any]:
    """A new backend, id list and rescoring store holding only the live documents, labelled 0..n-1.

    Used to drop tombstones from structures that cannot delete (faiss HNSW). int8 codes are decoded and
    quantized again with ranges fitted to the live vectors.
    """
    live = [label for label, doc_id in enumerate(index.raw_doc_ids) if doc_id is not None]
    labels = np.array(live, dtype=np.int64)
    backend = create_backend(
        index.backend.name,
        index.dimension,
        index.precision,
        None,
        **index.backend.build_config(),
        **index.backend.get_params(),
    )
    if len(labels):
        backend.add(np.arange(len(labels), dtype=np.int64), index.backend.reconstruct(labels))
    store = index.rescore_store.subset(labels) if index.rescore_store is not None else None
    return backend, [index.raw_doc_ids[label] for label in live], store
