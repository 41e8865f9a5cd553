"""Unlabeled training inputs: texts from .txt/.jsonl/.csv/.parquet files, folders, or saved datasets.

Without ``--data`` the default corpus is the general corpus of definitions, manuals, info pages, code
comments and titles with every evaluation text excluded (:mod:`ternembed.distill.default_corpus`).
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ternembed.data.jsonl import iter_json_objects
from ternembed.errors import TernembedError

DEFAULT_CORPUS_TEXTS = 50_000
"""Texts sampled from the default corpus unless ``max_texts`` says otherwise: one epoch of them is
what a 2-core CPU trains in about half an hour (see docs/RESULTS.md)."""

FILE_SUFFIXES = (".txt", ".jsonl", ".csv", ".parquet")
"""Corpus files we read; a folder contributes every such file below it, in sorted order."""


class CorpusError(TernembedError, ValueError):
    """A corpus could not be read or holds no usable text."""


def load_texts(
    paths: Sequence[str | Path] | None = None,
    text_field: str = "text",
    max_texts: int | None = None,
    seed: int = 0,
) -> list[str]:
    """Read non-empty, de-duplicated texts in a deterministic order.

    Args:
        paths: files or folders (see :data:`FILE_SUFFIXES`) or folders written by
            ``datasets.Dataset.save_to_disk``; None or empty means the default corpus
            (:func:`~ternembed.distill.default_corpus.default_corpus_path`, built once and cached).
        text_field: column or key holding the text in .jsonl, .csv, .parquet and datasets.
        max_texts: keep a seeded random sample of at most this many texts (default corpus:
            :data:`DEFAULT_CORPUS_TEXTS`).
        seed: seed of that sample.
    """
    if max_texts is not None and max_texts <= 0:
        raise CorpusError(f"max_texts must be positive, got {max_texts}")
    if not paths:
        from ternembed.distill.default_corpus import default_corpus_path

        paths, text_field = [default_corpus_path()], "text"
        max_texts = max_texts or DEFAULT_CORPUS_TEXTS
    texts = [text for path in paths for text in _read_path(Path(path), text_field)]
    source = ", ".join(str(p) for p in paths)
    texts = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
    if not texts:
        raise CorpusError(f"{source} holds no non-empty texts; pass --data with at least one line of text")
    if max_texts is not None and max_texts < len(texts):
        texts = random.Random(seed).sample(texts, max_texts)
    return texts


def corpus_fingerprint(items: Sequence[Any]) -> str:
    """A short hash of the items and their order, stored with checkpoints to catch a changed corpus.

    Texts are hashed as UTF-8; anything else (an image, an array) by its pixel or array bytes.
    """
    digest = hashlib.sha256()
    for item in items:
        data = item.encode("utf-8") if isinstance(item, str) else np.asarray(item).tobytes()
        digest.update(data + b"\0")
    return digest.hexdigest()[:16]


def _read_path(path: Path, text_field: str) -> Iterator[str]:
    if not path.exists():
        raise CorpusError(f"corpus path {str(path)!r} does not exist")
    if path.is_dir():
        if _is_saved_dataset(path):
            yield from _read_saved_dataset(path, text_field)
            return
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FILE_SUFFIXES)
        if not files:
            raise CorpusError(
                f"folder {str(path)!r} holds no {'/'.join(FILE_SUFFIXES)} file and is not a saved datasets folder"
            )
        for file in files:
            yield from _read_file(file, text_field)
        return
    yield from _read_file(path, text_field)


def _read_file(path: Path, text_field: str) -> Iterator[str]:
    suffix = path.suffix.lower()
    readers = {".txt": _read_txt, ".jsonl": _read_jsonl, ".csv": _read_csv, ".parquet": _read_parquet}
    if suffix not in readers:
        raise CorpusError(f"cannot read {str(path)!r}: corpus files must end in {', '.join(FILE_SUFFIXES)}")
    try:
        return iter(list(readers[suffix](path, text_field)))
    except (OSError, UnicodeDecodeError) as error:
        raise CorpusError(f"cannot read corpus file {str(path)!r}: {error}") from error


def _read_txt(path: Path, text_field: str) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _read_jsonl(path: Path, text_field: str) -> list[str]:
    texts = []
    for line_number, record in iter_json_objects(path, CorpusError):
        if text_field not in record:
            raise CorpusError(
                f"{path}:{line_number}: no field {text_field!r} (it has {sorted(record)}); pick one with --text-field"
            )
        texts.append(_as_text(record[text_field]))
    return texts


def _read_csv(path: Path, text_field: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        _check_field(path, text_field, reader.fieldnames or [])
        return [_as_text(row[text_field]) for row in reader]


def _read_parquet(path: Path, text_field: str) -> list[str]:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as error:  # pyarrow raises its own ArrowInvalid for files that are not parquet
        raise CorpusError(f"cannot read corpus file {str(path)!r}: {error}") from error
    _check_field(path, text_field, schema.names)
    return [_as_text(value) for value in pq.read_table(path, columns=[text_field]).column(0).to_pylist()]


def _is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file()


def _read_saved_dataset(path: Path, text_field: str) -> list[str]:
    import datasets

    loaded = datasets.load_from_disk(str(path))
    parts = list(loaded.values()) if isinstance(loaded, datasets.DatasetDict) else [loaded]
    texts: list[str] = []
    for part in parts:
        _check_field(path, text_field, part.column_names)
        texts.extend(_as_text(value) for value in part[text_field])
    return texts


def _check_field(path: Path, text_field: str, names: Sequence[str]) -> None:
    if text_field not in names:
        raise CorpusError(
            f"{str(path)!r} has no column {text_field!r} (columns: {list(names)}); pick one with --text-field"
        )


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else ""
