"""Streaming reader of JSON-lines corpora: one ``{"id": ..., "text": ...}`` object per line.

Any other fields of a line are the document's metadata (kept by the index, filterable when serving).

Lines are read one at a time, so a corpus larger than memory streams through. Every problem names the
file and line: invalid UTF-8 or JSON, a line that is not an object, a missing id or text field, a
duplicate id, an empty file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ternembed.data.jsonl import iter_json_objects
from ternembed.index.errors import CorpusError


@dataclass(frozen=True)
class Document:
    """One corpus entry, the line it came from, and its other fields as metadata."""

    id: str
    text: str
    line: int
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)


def count_lines(path: str | os.PathLike) -> int:
    """Non-blank lines of ``path`` (a fast byte scan, used for progress totals and IVF sizing)."""
    with open(path, "rb") as file:
        return sum(1 for line in file if line.strip())


def read_corpus(
    path: str | os.PathLike, id_field: str = "id", text_field: str = "text"
) -> Iterator[Document]:
    """Documents of a JSON-lines file in order; blank lines are skipped, anything else wrong raises CorpusError."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"corpus file {str(path)!r} does not exist")
    first_line_of: dict[str, int] = {}
    for number, record in iter_json_objects(path, CorpusError):
        document = _document(record, f"{path}:{number}", number, id_field, text_field)
        if document.id in first_line_of:
            raise CorpusError(
                f"{path}:{number}: duplicate id {document.id!r} (first on line {first_line_of[document.id]}); "
                "ids must be unique"
            )
        first_line_of[document.id] = number
        yield document
    if not first_line_of:
        raise CorpusError(f"corpus file {str(path)!r} has no documents")


def _document(record: dict, where: str, number: int, id_field: str, text_field: str) -> Document:
    for field, option in ((id_field, "--id-field"), (text_field, "--text-field")):
        if field not in record:
            fields = ", ".join(repr(name) for name in record) or "none"
            raise CorpusError(f"{where}: no {field!r} field (fields: {fields}); choose one with {option}")
    doc_id, text = record[id_field], record[text_field]
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or doc_id == "":
        raise CorpusError(f"{where}: id {doc_id!r} must be a non-empty string or an integer")
    if not isinstance(text, str):
        raise CorpusError(f"{where}: {text_field!r} must be a string, got {type(text).__name__}")
    metadata = {name: value for name, value in record.items() if name not in (id_field, text_field)}
    return Document(id=str(doc_id), text=text, line=number, metadata=metadata)
