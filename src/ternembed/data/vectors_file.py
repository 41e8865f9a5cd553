"""The vectors file format of ``ternembed embed``: one Parquet file with columns id, vector, payload.

``vector`` is a fixed-size list (float32, int8 codes or packed sign bits as uint8); ``payload`` is a
JSON object of every field but the id. The schema metadata key ``ternembed`` holds a JSON object
with ``model``, ``dimension``, ``precision``, ``int8_scale`` (``x ~ code * scale``), ``truncate_dim``,
``id_field``, ``text_field`` and ``count``. Readers (distillation's ``--teacher-embeddings``) stream
it in row batches.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ternembed.errors import TernembedError

METADATA_KEY = b"ternembed"
FORMAT_VERSION = 1
VALUE_TYPES = {"float32": "float32", "int8": "int8", "binary": "uint8"}


class VectorsFileError(TernembedError, ValueError):
    """A file is not a readable ternembed vectors file."""


def vector_schema(precision: str, width: int, metadata: dict[str, Any]):
    """The file's schema: ``id`` string, ``vector`` fixed-size list of ``width``, ``payload`` JSON string."""
    import pyarrow as pa

    value_type = pa.from_numpy_dtype(np.dtype(VALUE_TYPES[precision]))
    fields = [("id", pa.string()), ("vector", pa.list_(value_type, width)), ("payload", pa.string())]
    return pa.schema(fields, metadata={METADATA_KEY: json.dumps(metadata).encode("utf-8")})


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The ``ternembed`` schema metadata of a vectors file."""
    import pyarrow.parquet as pq

    if not os.path.isfile(path):
        raise FileNotFoundError(f"vectors file {str(path)!r} does not exist")
    try:
        schema = pq.read_schema(path)
    except Exception as error:  # pyarrow's ArrowInvalid for a file that is not Parquet
        raise VectorsFileError(f"cannot read {str(path)!r} as Parquet: {error}") from None
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None or "vector" not in schema.names:
        raise VectorsFileError(f"{str(path)!r} is not a vectors file; write one with `ternembed embed`")
    return json.loads(raw)


def vectors_from_array(array, precision: str, scale: float | None = None) -> np.ndarray:
    """The codes of a ``vector`` column as ``[n, width]`` numpy (int8 dequantized when ``scale`` is given)."""
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    width = array.type.list_size
    codes = array.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
    if precision == "int8" and scale is not None:
        return codes.astype(np.float32) * np.float32(scale)
    return codes


def iter_vector_batches(
    path: str | os.PathLike, columns: list[str], batch_size: int = 8192
) -> Iterator[dict[str, Any]]:
    """``{"vector": [n, width] codes, other column: list}`` for each row batch of the file."""
    import pyarrow.parquet as pq

    metadata = read_metadata(path)
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns):
        rows = {name: batch.column(name).to_pylist() for name in columns if name != "vector"}
        if "vector" in columns:
            rows["vector"] = vectors_from_array(batch.column("vector"), metadata["precision"])
        yield rows
