"""Precomputed teacher embeddings: a ``ternembed embed`` vectors file in place of the teacher's forward pass.

Each training text finds its stored vector by its text (the payload's text field, compared after
stripping, as the corpus loader strips texts) or by its id (the ``--data`` records' ids). The file
streams in row batches; only the vectors of the training texts are kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch

from ternembed.data.records import CorpusReader
from ternembed.data.vectors_file import iter_vector_batches, read_metadata
from ternembed.errors import TernembedError

ID_CHUNK = 8192


class TeacherEmbeddingsError(TernembedError, ValueError):
    """A vectors file does not fit the teacher or the training texts."""


def load_teacher_embeddings(
    path: str | Path,
    texts: Sequence[str],
    dimension: int,
    match: str = "text",
    data: Sequence[str] = (),
    text_field: str = "text",
) -> torch.Tensor:
    """float32 ``[len(texts), dimension]`` stored teacher embeddings, row ``i`` for ``texts[i]``.

    Args:
        path: vectors file written by ``ternembed embed`` with ``--precision float32``.
        texts: the training texts (stripped, de-duplicated).
        dimension: the teacher's embedding dimension; the file must hold vectors of that size.
        match: ``text`` or ``id``; ``id`` reads the records of ``data`` (their id field is the file's).
        data: the ``--data`` paths (for ``id`` matching).
        text_field: the text field of ``data``.
    """
    metadata = read_metadata(path)
    if metadata["precision"] != "float32":
        raise TeacherEmbeddingsError(
            f"{path} holds {metadata['precision']} vectors; --teacher-embeddings needs float32 "
            "(run `ternembed embed` with --precision float32)"
        )
    if metadata["dimension"] != dimension:
        raise TeacherEmbeddingsError(
            f"{path} holds {metadata['dimension']}-dimensional vectors but the teacher gives {dimension}; "
            "embed the corpus with the teacher itself and no --truncate-dim"
        )
    row_of = {text: row for row, text in enumerate(texts)}
    if match == "id":
        rows_by_key = _rows_by_id(data, metadata["id_field"], text_field, row_of)
        column = "id"
    else:
        rows_by_key, column = row_of, "payload"
    vectors = torch.zeros(len(texts), dimension)
    found = torch.zeros(len(texts), dtype=torch.bool)
    for batch in iter_vector_batches(path, [column, "vector"]):
        keys = (
            batch[column]
            if match == "id"
            else [_payload_text(p, metadata["text_field"]) for p in batch[column]]
        )
        hits = [(index, rows_by_key[key]) for index, key in enumerate(keys) if key in rows_by_key]
        if hits:
            positions, rows = (torch.tensor(values) for values in zip(*hits, strict=True))
            vectors[rows] = torch.from_numpy(batch["vector"][positions.numpy()].copy())
            found[rows] = True
    missing = (~found).nonzero().flatten()
    if len(missing):
        raise TeacherEmbeddingsError(
            f"{path} holds {metadata['count']} vectors, but {len(missing)} of the {len(texts)} training texts "
            f"have none when matched by {match} (first: {texts[int(missing[0])]!r}); embed the same corpus "
            "as --data with `ternembed embed`"
        )
    return vectors


def _payload_text(payload: str, text_field: str) -> str | None:
    text = json.loads(payload).get(text_field)
    return text.strip() if isinstance(text, str) else None


def _rows_by_id(
    data: Sequence[str], id_field: str, text_field: str, row_of: dict[str, int]
) -> dict[str, int]:
    """Training row of each record id of the ``--data`` files (records whose text is not trained on are left out)."""
    if not data:
        raise TeacherEmbeddingsError(
            "--teacher-match id needs --data in .jsonl, .csv, .parquet or a datasets folder, whose ids the "
            "vectors file holds; or match by text"
        )
    rows: dict[str, int] = {}
    for path in data:
        for chunk in CorpusReader(path, id_field, text_field).chunks(ID_CHUNK):
            for doc_id, text in zip(chunk.ids, chunk.texts, strict=True):
                row = row_of.get(text.strip())
                if row is not None:
                    rows[doc_id] = row
    return rows
