"""Index folder files: written atomically (built beside the target, then swapped in, io.output_folder)
and recorded by size and sha256 in ``index_config.json``, so a damaged or edited file is caught at load."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ternembed.index.errors import IndexFormatError
from ternembed.io.output_folder import INDEX_CONFIG_FILE, write_output_folder

CONFIG_FILE = INDEX_CONFIG_FILE
IDS_FILE = "ids.jsonl"
FILES_KEY = "files"
"""``index_config.json`` key: file name -> ``{"bytes": size, "sha256": hex digest}`` (digest optional)."""
REBUILD = "rebuild it with `ternembed index`"
_CHUNK_BYTES = 1 << 20


def write_folder_atomically(
    target: str | os.PathLike, write: Callable[[Path], None], inputs: Iterable[str | os.PathLike | None] = ()
) -> Path:
    """Call ``write(tmp_folder)`` and move the result to ``target``; an existing index there is replaced.

    Readers see either the old folder or the new one, never a half-written one; a failed write leaves
    ``target`` untouched. A non-empty folder that is not ours (an index, model or run) is never replaced.
    """
    return write_output_folder(target, write, overwrite=True, inputs=inputs)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def file_records(folder: Path, hashed: Iterable[str], sized: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """Size and sha256 of the ``hashed`` files of ``folder``, size only of the ``sized`` ones.

    Files that are memory-mapped at load (the rescoring vectors) are only sized: hashing them would read
    all of them from disk, which memory-mapping is there to avoid.
    """
    records: dict[str, dict[str, Any]] = {}
    for name in hashed:
        records[name] = {"bytes": (folder / name).stat().st_size, "sha256": sha256_of(folder / name)}
    for name in sized:
        records[name] = {"bytes": (folder / name).stat().st_size}
    return records


def verify_files(folder: Path, records: Mapping[str, Any]) -> None:
    """IndexFormatError naming the first recorded file that is missing, of another size or digest.

    Runs before any file is handed to faiss or usearch, which may crash the process on a damaged file.
    """
    if not isinstance(records, Mapping):
        raise IndexFormatError(f"{folder / CONFIG_FILE}: {FILES_KEY!r} must be an object; {REBUILD}")
    for name, record in records.items():
        if not isinstance(name, str) or Path(name).name != name or not isinstance(record, Mapping):
            raise IndexFormatError(f"{folder / CONFIG_FILE}: damaged {FILES_KEY!r} entry {name!r}; {REBUILD}")
        path = folder / name
        if not path.is_file():
            raise IndexFormatError(f"{path} is missing from the index folder; {REBUILD}")
        size = path.stat().st_size
        if size != record.get("bytes"):
            raise IndexFormatError(
                f"{path} is {size} bytes but {CONFIG_FILE} records {record.get('bytes')!r} (truncated or "
                f"damaged); {REBUILD}"
            )
        if "sha256" in record and sha256_of(path) != record["sha256"]:
            raise IndexFormatError(
                f"{path} does not match the sha256 recorded in {CONFIG_FILE} (the file was edited or "
                f"damaged); {REBUILD}"
            )
