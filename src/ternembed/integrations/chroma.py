"""Chroma: a ternembed model as a Chroma embedding function, and filling a collection from a corpus.

``TernembedEmbeddingFunction("minilm-ternary")`` follows chromadb's ``EmbeddingFunction`` protocol
(``__call__`` for documents, ``embed_query`` for queries, ``name``/``get_config``/``build_from_config``),
and is registered under the name ``ternembed``, so a persisted collection reopens with the same model
once this module is imported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from ternembed.errors import InvalidArgumentError
from ternembed.index.corpus import Document
from ternembed.integrations.common import TextEncoder, batched, encoder_for, require

EMBEDDING_FUNCTION_NAME = "ternembed"
CHROMA_PACKAGE = "chromadb"

_chromadb = require("chromadb", CHROMA_PACKAGE)
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space  # noqa: E402
from chromadb.utils.embedding_functions import register_embedding_function  # noqa: E402


@register_embedding_function
class TernembedEmbeddingFunction(EmbeddingFunction[Documents]):
    """Embeds Chroma documents and queries with a ternembed (or any sentence-transformers) model.

    Args:
        model: a ternembed model folder, a sentence-transformers folder or hub id (loaded once per
            process), or an already loaded model (then the collection's stored config cannot reload it).
        batch_size: encoding batch size.
    """

    def __init__(self, model: str | os.PathLike | Any = "all-MiniLM-L6-v2", batch_size: int = 32) -> None:
        self._encoder: TextEncoder = encoder_for(model, batch_size)

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._encoder.encode(list(input), "document"))

    def embed_query(self, input: Documents) -> Embeddings:
        """Queries get the model's query prompt (documents get its document prompt)."""
        return list(self._encoder.encode(list(input), "query"))

    @staticmethod
    def name() -> str:
        return EMBEDDING_FUNCTION_NAME

    def default_space(self) -> Space:
        return "cosine" if self._encoder.similarity == "cosine" else "ip"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        if self._encoder.name_or_path is None:
            raise InvalidArgumentError(
                "this embedding function wraps an in-memory model, so Chroma cannot store how to reload it; "
                "pass the model's folder or name instead"
            )
        return {"model": self._encoder.name_or_path, "batch_size": self._encoder.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> TernembedEmbeddingFunction:
        return TernembedEmbeddingFunction(config["model"], batch_size=int(config.get("batch_size", 32)))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if not isinstance(config.get("model"), str):
            raise InvalidArgumentError(f"a ternembed embedding function config needs a 'model' string, got {config!r}")

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        """A collection keeps its model: other vectors would not be comparable with the stored ones."""
        if "model" in new_config and new_config["model"] != old_config.get("model"):
            raise InvalidArgumentError("a collection's embedding model cannot be changed; create a new collection")


def persistent_client(path: str | os.PathLike):
    """A ``chromadb.PersistentClient`` on ``path`` with anonymized telemetry off (no network)."""
    from chromadb.config import Settings

    return _chromadb.PersistentClient(path=os.fspath(path), settings=Settings(anonymized_telemetry=False))


def add_documents(collection, documents: Iterable[Document], batch_size: int = 256) -> int:
    """Add corpus documents, with their other fields as metadata, to a Chroma collection in batches;
    returns how many were added."""
    count = 0
    for batch in batched(documents, batch_size):
        collection.add(
            ids=[document.id for document in batch],
            documents=[document.text for document in batch],
            metadatas=[chroma_metadata(document.metadata) for document in batch],
        )
        count += len(batch)
    return count


def chroma_metadata(fields: dict[str, Any]) -> dict[str, Any] | None:
    """Chroma metadata of a document's fields: strings, numbers and booleans as they are (filterable
    with ``where``), anything else (lists, objects) as JSON text; None for a document without fields."""
    metadata = {
        name: value if isinstance(value, (str, int, float, bool)) else json.dumps(value, ensure_ascii=False)
        for name, value in fields.items()
        if value is not None
    }
    return metadata or None
