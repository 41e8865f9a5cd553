"""Qdrant: texts embedded by a ternembed model, stored as a named vector, searched and recommended.

``TernembedQdrant(client, "docs", "minilm-ternary")`` works with any ``qdrant_client.QdrantClient``:
local mode (``QdrantClient(path=...)`` or ``":memory:"``) or a server (``QdrantClient(url=...)``).
Points carry the model's embedding under a vector name (``"text"`` by default, so a collection can
hold other named vectors beside it) and a payload with the document's ``id`` and ``text`` plus any
fields given. Qdrant point ids are integers or UUIDs, so a string document id becomes a UUID
derived from it (``point_id``); the payload keeps the original.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from ternembed.errors import InvalidArgumentError
from ternembed.index.corpus import Document
from ternembed.integrations.common import TextEncoder, batched, encoder_for, require

QDRANT_PACKAGE = "qdrant-client"
DEFAULT_VECTOR_NAME = "text"
POINT_ID_NAMESPACE = uuid.UUID("5b0c7f4e-2f0a-4c55-9a55-7e6e3d0a1c11")
"""Namespace of the UUIDs made from document ids: the same id always maps to the same point."""

_qdrant = require("qdrant_client", QDRANT_PACKAGE)
models = _qdrant.models


def point_id(document_id: str | int) -> str | int:
    """The Qdrant point id of a document: a non-negative integer stays, anything else becomes a UUID."""
    if isinstance(document_id, int) and not isinstance(document_id, bool) and document_id >= 0:
        return document_id
    return str(uuid.uuid5(POINT_ID_NAMESPACE, str(document_id)))


class TernembedQdrant:
    """One Qdrant collection whose vector ``vector_name`` holds embeddings from one model.

    Args:
        client: a ``QdrantClient`` (local or server).
        collection: the collection name.
        model: a ternembed model folder, sentence-transformers folder or hub id, or a loaded model.
        vector_name: the named vector this model's embeddings live in.
        batch_size: encoding batch size.
    """

    def __init__(
        self,
        client,
        collection: str,
        model: str | os.PathLike | Any,
        vector_name: str = DEFAULT_VECTOR_NAME,
        batch_size: int = 32,
    ) -> None:
        self.client = client
        self.collection = collection
        self.vector_name = vector_name
        self.encoder: TextEncoder = encoder_for(model, batch_size)

    def vectors_config(self) -> dict[str, Any]:
        """``{vector_name: VectorParams}`` for ``create_collection`` (merge it with other named vectors)."""
        distance = models.Distance.COSINE if self.encoder.similarity == "cosine" else models.Distance.DOT
        return {self.vector_name: models.VectorParams(size=self.encoder.dimension, distance=distance)}

    def create_collection(self, overwrite: bool = False, **options: Any) -> None:
        """Create the collection with this model's named vector; an existing one is refused unless
        ``overwrite`` (then it is deleted first). ``options`` go to ``client.create_collection``."""
        if self.client.collection_exists(self.collection):
            if not overwrite:
                raise InvalidArgumentError(
                    f"Qdrant collection {self.collection!r} already exists; choose another name or overwrite it"
                )
            self.client.delete_collection(self.collection)
        self.client.create_collection(self.collection, vectors_config=self.vectors_config(), **options)

    def add(
        self,
        ids: Sequence[str | int],
        texts: Sequence[str],
        payloads: Sequence[dict[str, Any]] | None = None,
        batch_size: int = 256,
    ) -> None:
        """Embed ``texts`` and upsert them as points (an existing point with the same id is replaced)."""
        if len(ids) != len(texts) or (payloads is not None and len(payloads) != len(texts)):
            raise InvalidArgumentError(
                f"add got {len(ids)} ids, {len(texts)} texts and "
                f"{'no' if payloads is None else len(payloads)} payloads; give one of each per document"
            )
        rows = zip(ids, texts, payloads or [{}] * len(texts), strict=True)
        for batch in batched(rows, batch_size):
            vectors = self.encoder.encode([text for _, text, _ in batch], "document")
            points = [
                models.PointStruct(
                    id=point_id(doc_id),
                    vector={self.vector_name: vector.tolist()},
                    payload={**payload, "id": doc_id, "text": text},
                )
                for (doc_id, text, payload), vector in zip(batch, vectors, strict=True)
            ]
            self.client.upsert(self.collection, points=points)

    def add_documents(self, documents: Iterable[Document], batch_size: int = 256) -> int:
        """Add corpus documents in batches, their other fields as payload; returns how many were added."""
        count = 0
        for batch in batched(documents, batch_size):
            self.add(
                [document.id for document in batch],
                [document.text for document in batch],
                [document.metadata for document in batch],
            )
            count += len(batch)
        return count

    def search(self, text: str, limit: int = 10, query_filter: Any = None, **options: Any) -> list:
        """The ``limit`` points nearest to ``text`` (Qdrant ``ScoredPoint``s, best first), optionally
        restricted by a payload ``models.Filter``; ``options`` go to ``client.query_points``."""
        query = self.encoder.encode([text], "query")[0].tolist()
        return self._query(query, limit, query_filter, **options)

    def recommend(
        self,
        positive: Sequence[str | int] = (),
        negative: Sequence[str | int] = (),
        positive_texts: Sequence[str] = (),
        negative_texts: Sequence[str] = (),
        limit: int = 10,
        query_filter: Any = None,
        strategy: Any = None,
        **options: Any,
    ) -> list:
        """Qdrant's recommendation: points like the ``positive`` documents (by id) or texts and unlike
        the ``negative`` ones; example documents themselves are left out of the results."""
        examples = {
            "positive": [point_id(doc_id) for doc_id in positive] + self._text_vectors(positive_texts),
            "negative": [point_id(doc_id) for doc_id in negative] + self._text_vectors(negative_texts),
        }
        if not examples["positive"] and not examples["negative"]:
            raise InvalidArgumentError("recommend needs at least one positive or negative example")
        query = models.RecommendQuery(recommend=models.RecommendInput(**examples, strategy=strategy))
        return self._query(query, limit, query_filter, **options)

    def _text_vectors(self, texts: Sequence[str]) -> list[list[float]]:
        return [vector.tolist() for vector in self.encoder.encode(list(texts), "query")]

    def _query(self, query: Any, limit: int, query_filter: Any, **options: Any) -> list:
        response = self.client.query_points(
            self.collection,
            query=query,
            using=self.vector_name,
            query_filter=query_filter,
            limit=limit,
            with_payload=options.pop("with_payload", True),
            **options,
        )
        return response.points


def connect(location: str | os.PathLike):
    """``QdrantClient(url=...)`` for an ``http(s)://`` address, else local mode on a folder."""
    text = os.fspath(location)
    if text.startswith(("http://", "https://")):
        return _qdrant.QdrantClient(url=text)
    return _qdrant.QdrantClient(path=text)
