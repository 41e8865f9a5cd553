"""Documents of a corpus to index: JSON lines, CSV, Parquet or a ``datasets`` folder, streamed.

Each record's id and text become a :class:`Document`; its other fields are the document's metadata
(kept by the index, filterable when serving). Records stream through the shared corpus reader
(:class:`ternembed.data.records.CorpusReader`), so a corpus larger than memory is fine and every
problem names the file and the line or row.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ternembed.data.records import CorpusReader


@dataclass(frozen=True)
class Document:
    """One corpus entry, the line (or row) it came from, and its other fields as metadata."""

    id: str
    text: str
    line: int
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)


def count_documents(path: str | os.PathLike) -> int:
    """Records in the corpus (a fast scan for JSON lines and CSV), for progress totals and IVF sizing."""
    return CorpusReader(path).count()


def read_corpus(
    path: str | os.PathLike, id_field: str = "id", text_field: str = "text"
) -> Iterator[Document]:
    """Documents in order; blank JSON lines are skipped, anything else wrong raises RecordsError (``CorpusError``)."""
    for record in CorpusReader(path, id_field, text_field).records():
        metadata = {name: value for name, value in record.fields.items() if name != text_field}
        yield Document(id=record.id, text=record.text, line=record.number, metadata=metadata)
