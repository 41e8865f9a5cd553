"""Index folders served by name: search, recommendation and live document changes through a WAL.

Every change is validated, written to the index folder's write-ahead log (fsynced), then applied in
memory, so what the server acknowledged is replayed after a crash. A clean shutdown saves the folder
(compacting tombstones) and empties the log. A lock per index keeps searches and changes apart.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ternembed.index import SearchIndex
from ternembed.index.documents import search_documents, stored_vectors
from ternembed.index.filters import compile_filter
from ternembed.serve.encoder import normalize_rows
from ternembed.serve.errors import ApiError
from ternembed.serve.schemas import DocumentIn
from ternembed.serve.wal import WAL_FILE, WriteAheadLog, decode_vectors, encode_vectors

MAX_RECOMMEND_IDS = 256
"""Most positive plus negative example ids in one recommendation request."""


class ServedIndex:
    """One index folder opened for serving."""

    def __init__(self, name: str, folder: Path, index: SearchIndex) -> None:
        self.name = name
        self.folder = folder
        self.index = index
        self.wal = WriteAheadLog(folder / WAL_FILE)
        self._lock = threading.Lock()
        self._replay()

    @property
    def similarity(self) -> str:
        return self.index.model_ref.similarity

    def __len__(self) -> int:
        return len(self.index)

    def _replay(self) -> None:
        for record in self.wal.records():
            if record["op"] == "add":
                documents = [DocumentIn(**document) for document in record["documents"]]
                self._apply_add(documents, decode_vectors(record["vectors"], self.index.dimension))
            else:
                self.index.remove(record["ids"])

    def check_query_vectors(self, vectors: list[list[float]]) -> np.ndarray:
        """Query vectors as float32 ``[n, d]``, or ApiError 400 for an empty list, a wrong length or NaN."""
        if not vectors:
            raise ApiError(400, "vectors must not be an empty list", param="vectors")
        for position, vector in enumerate(vectors):
            if len(vector) != self.index.dimension:
                raise ApiError(
                    400,
                    f"vectors[{position}] has {len(vector)} values but index {self.name!r} holds "
                    f"{self.index.dimension}-dimensional vectors",
                    param="vectors",
                )
            if not all(math.isfinite(value) for value in vector):
                raise ApiError(400, f"vectors[{position}] holds a NaN or infinite value", param="vectors")
        return np.asarray(vectors, dtype=np.float32)

    def search(self, vectors: np.ndarray, k: int, filter_spec: dict | None) -> list[list[dict[str, Any]]]:
        """Per query: the top-``k`` documents passing the filter, with score, text and metadata."""
        predicate = _predicate(filter_spec)
        with self._lock:
            hits = search_documents(self.index, vectors, k, predicate)
            return [[self._result(doc_id, score) for doc_id, score in row] for row in hits]

    def recommend(
        self, positive: Sequence[str], negative: Sequence[str], k: int, filter_spec: dict | None
    ) -> list[dict[str, Any]]:
        """Documents like ``positive`` and unlike ``negative``, none of the given ids among them.

        The average-vector strategy (as Qdrant's): the query is ``2 * mean(positive) - mean(negative)``,
        or ``mean(positive)`` without negatives, normalized for cosine indexes.
        """
        if not positive:
            raise ApiError(400, "positive must name at least one document id", param="positive")
        if len(positive) + len(negative) > MAX_RECOMMEND_IDS:
            raise ApiError(
                400, f"at most {MAX_RECOMMEND_IDS} positive and negative ids per request", param="positive"
            )
        predicate = _predicate(filter_spec)
        with self._lock:
            for field, ids in (("positive", positive), ("negative", negative)):
                self._require_known(ids, field)
            query = stored_vectors(self.index, positive).mean(axis=0)
            if negative:
                query = 2 * query - stored_vectors(self.index, negative).mean(axis=0)
            query = query[None, :].astype(np.float32)
            if self.similarity == "cosine":
                query = normalize_rows(query)
            exclude = set(positive) | set(negative)
            (hits,) = search_documents(self.index, query, k, predicate, exclude)
            return [self._result(doc_id, score) for doc_id, score in hits]

    def check_new(self, ids: Sequence[str]) -> None:
        """ApiError 409 for an id already in the index, 400 for an id given twice."""
        if len(set(ids)) != len(ids):
            raise ApiError(400, "a document id appears twice in this request", param="documents")
        with self._lock:
            for doc_id in ids:
                if doc_id in self.index:
                    raise ApiError(
                        409,
                        f"document id {doc_id!r} is already in index {self.name!r}; delete it first to replace it",
                        param="documents",
                    )

    def add(self, documents: Sequence[DocumentIn], vectors: np.ndarray) -> None:
        """Log, then add, documents with their embeddings."""
        with self._lock:
            for document in documents:
                if document.id in self.index:
                    raise ApiError(409, f"document id {document.id!r} is already in index {self.name!r}")
            self.wal.append(
                {
                    "op": "add",
                    "documents": [document.model_dump() for document in documents],
                    "vectors": encode_vectors(vectors),
                }
            )
            self._apply_add(documents, vectors)

    def _apply_add(self, documents: Sequence[DocumentIn], vectors: np.ndarray) -> None:
        self.index.add([document.id for document in documents], vectors)
        self.index.payloads.put_many(
            (document.id, document.text, document.metadata) for document in documents
        )

    def remove(self, ids: Sequence[str]) -> None:
        """Log, then delete, documents by id (404 naming an unknown one)."""
        if len(set(ids)) != len(ids):
            raise ApiError(400, "an id appears twice in this request", param="ids")
        with self._lock:
            self._require_known(ids, "ids")
            self.wal.append({"op": "delete", "ids": list(ids)})
            self.index.remove(list(ids))

    def document(self, doc_id: str) -> dict[str, Any]:
        """A stored document: id, text, metadata and its stored vector."""
        with self._lock:
            self._require_known([doc_id], "id")
            result = self._result(doc_id, None)
            result.pop("score")
            result["vector"] = stored_vectors(self.index, [doc_id])[0].tolist()
            return result

    def checkpoint(self) -> None:
        """Save the folder with every logged change in it (the log then starts empty)."""
        with self._lock:
            if self.wal.path.exists():
                self.index.save(self.folder)

    def _require_known(self, ids: Sequence[str], field: str) -> None:
        for doc_id in ids:
            if doc_id not in self.index:
                raise ApiError(404, f"document id {doc_id!r} is not in index {self.name!r}", param=field)

    def _result(self, doc_id: str, score: float | None) -> dict[str, Any]:
        payloads = self.index.payloads
        return {
            "id": doc_id,
            "score": score,
            "text": payloads.text(doc_id),
            "metadata": payloads.metadata(doc_id),
        }


def _predicate(filter_spec: dict | None):
    if filter_spec is None:
        return None
    try:
        return compile_filter(filter_spec)
    except ValueError as error:
        raise ApiError(400, f"filter: {error}", param="filter") from None


class IndexRegistry:
    """The served indexes by name."""

    def __init__(self, indexes: dict[str, ServedIndex]) -> None:
        self._indexes = indexes

    @classmethod
    def open(cls, folders: Mapping[str, Path], model) -> IndexRegistry:
        """Load each folder with the server's model (refused when it is not the index's model), replaying its log."""
        return cls(
            {
                name: ServedIndex(name, Path(folder), SearchIndex.load(folder, model=model))
                for name, folder in folders.items()
            }
        )

    def get(self, name: str) -> ServedIndex:
        if name not in self._indexes:
            known = (
                ", ".join(repr(known) for known in self._indexes)
                or "none (start the server with --index NAME=DIR)"
            )
            raise ApiError(404, f"no index named {name!r}; served indexes: {known}", param="index")
        return self._indexes[name]

    def describe(self) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "count": len(index),
                "dimension": index.index.dimension,
                "backend": index.index.backend.name,
            }
            for name, index in self._indexes.items()
        }

    def checkpoint(self) -> None:
        for index in self._indexes.values():
            index.checkpoint()
