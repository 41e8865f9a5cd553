"""LanceDB: a ternembed model in LanceDB's embedding-function registry, and tables built from a corpus.

``get_registry().get("ternembed").create(name="minilm-ternary")`` gives a ``TextEmbeddingFunction``;
declare a table's text column with its ``SourceField()`` and its vector column with ``VectorField()``,
and LanceDB embeds on ``add`` and on ``table.search("some text")``. Importing this module registers it.

Precision: LanceDB searches float vectors only (an int8 column is rejected by its search), so
``int8`` keeps the float32 column and builds LanceDB's IVF_SQ index on it, which stores every vector
as one byte per dimension (8-bit scalar quantization with per-dimension ranges learned from the data)
and searches those codes; ``refine_factor`` re-ranks candidates with the float32 vectors.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from typing import Any, Literal, get_args

import numpy as np

from ternembed.errors import InvalidArgumentError
from ternembed.index.corpus import Document
from ternembed.integrations.common import TextEncoder, batched, encoder_for, portable_name, require

EMBEDDING_FUNCTION_NAME = "ternembed"
LANCEDB_PACKAGE = "lancedb"
LancePrecision = Literal["float32", "int8"]
LANCE_PRECISIONS: tuple[str, ...] = get_args(LancePrecision)
MIN_ROWS_PER_PARTITION = 256
"""IVF lists get at least this many vectors each, so k-means has data to learn from on small tables."""

_lancedb = require("lancedb", LANCEDB_PACKAGE)
from lancedb.embeddings import TextEmbeddingFunction, register  # noqa: E402
from lancedb.pydantic import LanceModel, Vector  # noqa: E402


@register(EMBEDDING_FUNCTION_NAME)
class TernembedEmbeddings(TextEmbeddingFunction):
    """Embeds a LanceDB text column (and text queries) with a ternembed or sentence-transformers model.

    Fields:
        name: a ternembed model folder, a sentence-transformers folder or a hub id (loaded once per process).
        batch_size: encoding batch size.
    """

    name: str = "all-MiniLM-L6-v2"
    batch_size: int = 32
    max_retries: int = 0  # a local model's error is not transient: report it at once

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ndims = None

    @property
    def encoder(self) -> TextEncoder:
        """The loaded model (shared by every function on the same model)."""
        return encoder_for(self.name, self.batch_size)

    def ndims(self) -> int:
        return self.encoder.dimension

    def generate_embeddings(self, texts: Iterable[str], *args: Any, **kwargs: Any) -> list[np.ndarray]:
        return list(self.encoder.encode(list(texts), "document"))

    def compute_query_embeddings(self, query: str, *args: Any, **kwargs: Any) -> list[np.ndarray]:
        """Queries get the model's query prompt (documents get its document prompt)."""
        return list(self.encoder.encode(self.sanitize_input(query), "query"))


def embedding_function(model: str | os.PathLike, batch_size: int = 32) -> TernembedEmbeddings:
    """The registered ``ternembed`` function for a model folder or name (as LanceDB's registry creates it)."""
    registry = _lancedb.embeddings.get_registry()
    return registry.get(EMBEDDING_FUNCTION_NAME).create(name=portable_name(model), batch_size=batch_size)


def connect(path: str | os.PathLike):
    """``lancedb.connect`` on a local database folder."""
    return _lancedb.connect(os.fspath(path))


def document_schema(function: TernembedEmbeddings) -> type[LanceModel]:
    """A table schema ``id``, ``text`` (embedded by ``function``) and ``vector`` (float32)."""

    class TextDocument(LanceModel):
        id: str
        text: str = function.SourceField()
        vector: Vector(function.ndims()) = function.VectorField()  # type: ignore[valid-type]

    return TextDocument


def create_table(
    db,
    name: str,
    model: str | os.PathLike,
    documents: Iterable[Document],
    *,
    precision: LancePrecision = "float32",
    overwrite: bool = False,
    batch_size: int = 32,
    rows_per_write: int = 1024,
):
    """Create table ``name`` in ``db`` holding ``documents`` (ids and texts) and their embeddings.

    The rows are streamed through the embedding function and committed once, so a failure leaves any
    previous table of that name as it was. ``int8`` then builds an IVF_SQ index (see the module docstring).
    """
    if precision not in LANCE_PRECISIONS:
        raise InvalidArgumentError(
            f"LanceDB precision {precision!r} is not supported; choose one of {', '.join(LANCE_PRECISIONS)}"
        )
    function = embedding_function(model, batch_size)
    schema = document_schema(function)
    arrow_schema = schema.to_arrow_schema()
    source = arrow_schema.remove(arrow_schema.get_field_index("vector"))
    table = db.create_table(
        name,
        data=_record_batches(documents, source, rows_per_write),
        schema=schema,
        mode="overwrite" if overwrite else "create",
    )
    if precision == "int8":
        build_int8_index(table, function.encoder.similarity)
    return table


def build_int8_index(table, similarity: str = "cosine") -> None:
    """LanceDB's IVF_SQ index on ``vector``: 8-bit codes per dimension, searched by ``table.search``."""
    from lancedb.index import IvfSq

    rows = table.count_rows()
    partitions = max(1, min(round(math.sqrt(rows)), rows // MIN_ROWS_PER_PARTITION))
    distance = "cosine" if similarity == "cosine" else "dot"
    table.create_index(
        "vector", config=IvfSq(distance_type=distance, num_partitions=partitions), replace=True
    )


def _record_batches(documents: Iterable[Document], schema, rows: int) -> Iterator:
    import pyarrow as pa

    for batch in batched(documents, rows):
        yield pa.record_batch(
            [pa.array([document.id for document in batch]), pa.array([document.text for document in batch])],
            schema=schema,
        )
