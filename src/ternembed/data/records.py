"""Chunked readers of record corpora of any size (id, text and other fields): JSON lines, CSV, Parquet and ``datasets`` save_to_disk folders.

Records stream one chunk at a time (lines for JSON lines and CSV, Parquet row batches, memory-mapped
Arrow batches for datasets), so memory holds one chunk, not the corpus. Chunk ``k`` is always the
records ``k * chunk_size`` to ``(k + 1) * chunk_size - 1``, which is what makes an interrupted run
resumable chunk by chunk. Every problem names the file and the line or row.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ternembed.data.jsonl import iter_json_objects
from ternembed.errors import TernembedError

FORMATS = ("jsonl", "csv", "parquet", "datasets")
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
LINE_FORMATS = ("jsonl", "csv")
"""Formats whose records are located by line number; the others by row number (from 0)."""


class RecordsError(TernembedError, ValueError):
    """A corpus cannot be read: unknown format, missing field, bad id or text, duplicate id, empty."""


@dataclass(frozen=True)
class Record:
    """One record: its line (JSON lines, CSV) or row (Parquet, datasets) number, id, text, and every
    field but the id (the text included)."""

    number: int
    id: str
    text: str
    fields: dict[str, Any]


@dataclass
class Chunk:
    """Consecutive records of the corpus: ids, texts and the other fields of each as a JSON object."""

    index: int
    ids: list[str]
    texts: list[str]
    payloads: list[str]

    def __len__(self) -> int:
        return len(self.ids)


class CorpusReader:
    """A corpus file or saved dataset, read in chunks of records with an id and a text field.

    Args:
        path: a ``.jsonl``/``.ndjson``, ``.csv`` or ``.parquet`` file, or a ``datasets`` save_to_disk folder.
        id_field: field holding the record id (string or integer, unique).
        text_field: field holding the text to embed.
    """

    def __init__(self, path: str | os.PathLike, id_field: str = "id", text_field: str = "text") -> None:
        self.path = Path(path)
        self.id_field, self.text_field = id_field, text_field
        self.format = corpus_format(self.path)

    def count(self) -> int:
        """Records in the corpus (a scan for JSON lines and CSV, metadata for Parquet and datasets)."""
        if self.format == "jsonl":
            with open(self.path, "rb") as handle:
                return sum(1 for line in handle if line.strip())
        if self.format == "csv":
            with self.path.open(encoding="utf-8", newline="") as handle:
                return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
        if self.format == "parquet":
            return self._parquet_file().metadata.num_rows
        return sum(part.num_rows for part in self._dataset_parts())

    def records(self, batch_size: int = 1024) -> Iterator[Record]:
        """Every record in order, its id checked unique; a problem raises RecordsError naming its line or row."""
        seen: set[bytes] = set()
        for number, raw in self._raw_records(batch_size):
            where = self._where(number)
            doc_id, text = self._parse(where, raw)
            key = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
            if key in seen:
                raise RecordsError(
                    f"{where}: duplicate id {doc_id!r} (first on {self._first_position(doc_id)}); ids must be unique"
                )
            seen.add(key)
            yield Record(number, doc_id, text, {name: value for name, value in raw.items() if name != self.id_field})
        if not seen:
            raise RecordsError(f"corpus {str(self.path)!r} has no records")

    def chunks(self, chunk_size: int, skip: frozenset[int] = frozenset()) -> Iterator[Chunk]:
        """The corpus as chunks of ``chunk_size`` records, in order; chunks listed in ``skip`` are read
        (ids are still checked for duplicates) but not returned."""
        if chunk_size <= 0:
            raise RecordsError(f"chunk size must be positive, got {chunk_size}")
        records = self.records(chunk_size)
        for index in itertools.count():
            batch = list(itertools.islice(records, chunk_size))
            if not batch:
                return
            if index not in skip:
                yield Chunk(
                    index,
                    [record.id for record in batch],
                    [record.text for record in batch],
                    [json.dumps(record.fields, ensure_ascii=False, default=str) for record in batch],
                )

    def _position(self, number: int) -> str:
        return f"line {number}" if self.format in LINE_FORMATS else f"row {number}"

    def _where(self, number: int) -> str:
        return f"{self.path}:{number}" if self.format in LINE_FORMATS else f"{self.path} {self._position(number)}"

    def _first_position(self, doc_id: str) -> str:
        """Where ``doc_id`` first occurs (a second pass, only on the error path)."""
        for number, raw in self._raw_records(1024):
            if str(raw.get(self.id_field)) == doc_id:
                return self._position(number)
        return "an earlier record"

    def _parse(self, where: str, record: dict[str, Any]) -> tuple[str, str]:
        for field, option in ((self.id_field, "--id-field"), (self.text_field, "--text-field")):
            if field not in record:
                fields = ", ".join(repr(name) for name in record) or "none"
                raise RecordsError(
                    f"{where}: no {field!r} field (fields: {fields}); choose one with {option}"
                )
        doc_id, text = record[self.id_field], record[self.text_field]
        if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or doc_id == "":
            raise RecordsError(f"{where}: id {doc_id!r} must be a non-empty string or an integer")
        if not isinstance(text, str):
            raise RecordsError(f"{where}: {self.text_field!r} must be a string, got {type(text).__name__}")
        return str(doc_id), text

    def _raw_records(self, batch_size: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(line or row number, fields)`` of each record, unchecked."""
        if self.format == "jsonl":
            yield from iter_json_objects(self.path, RecordsError)
        elif self.format == "csv":
            yield from self._csv_records()
        elif self.format == "parquet":
            parquet = self._parquet_file()
            self._check_columns(parquet.schema_arrow.names)
            rows = (row for batch in parquet.iter_batches(batch_size=batch_size) for row in batch.to_pylist())
            yield from enumerate(rows)
        else:
            number = 0
            for part in self._dataset_parts():
                self._check_columns(part.column_names)
                for batch in part.iter(batch_size=batch_size):
                    for row in (
                        dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True)
                    ):
                        yield number, row
                        number += 1

    def _csv_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            with self.path.open(encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle)
                self._check_columns(reader.fieldnames or [])
                for row in reader:
                    if None in row:
                        raise RecordsError(
                            f"{self.path}:{reader.line_num}: more values than the {len(reader.fieldnames)} "
                            "header columns"
                        )
                    yield reader.line_num, row
        except UnicodeDecodeError as problem:
            raise RecordsError(f"{self.path}: not valid UTF-8 ({problem.reason})") from None
        except csv.Error as problem:
            raise RecordsError(f"{self.path}: not valid CSV ({problem})") from None

    def _check_columns(self, names: list[str]) -> None:
        for field, option in ((self.id_field, "--id-field"), (self.text_field, "--text-field")):
            if field not in names:
                raise RecordsError(
                    f"{str(self.path)!r} has no column {field!r} (columns: {list(names)}); choose one with {option}"
                )

    def _parquet_file(self):
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path)
        except Exception as error:  # pyarrow raises ArrowInvalid for a file that is not Parquet
            raise RecordsError(f"cannot read {str(self.path)!r} as Parquet: {error}") from None

    def _dataset_parts(self) -> list[Any]:
        import datasets

        try:
            loaded = datasets.load_from_disk(str(self.path))
        except Exception as error:  # datasets raises its own errors for damaged folders
            raise RecordsError(f"cannot read the datasets folder {str(self.path)!r}: {error}") from None
        if isinstance(loaded, datasets.DatasetDict):
            return [loaded[split] for split in loaded]
        return [loaded]


def corpus_format(path: Path) -> str:
    """``jsonl``, ``csv``, ``parquet`` or ``datasets`` for ``path``, else an RecordsError."""
    if not path.exists():
        raise FileNotFoundError(f"corpus {str(path)!r} does not exist")
    if path.is_dir():
        if any((path / name).is_file() for name in ("dataset_info.json", "dataset_dict.json", "state.json")):
            return "datasets"
        raise RecordsError(
            f"folder {str(path)!r} is not a datasets save_to_disk folder; pass a .jsonl, .csv or .parquet file"
        )
    corpus_kind = SUFFIXES.get(path.suffix.lower())
    if corpus_kind is None:
        raise RecordsError(
            f"cannot read {str(path)!r}: corpora are {', '.join(SUFFIXES)} files or a datasets folder"
        )
    return corpus_kind
