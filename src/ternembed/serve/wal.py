"""A write-ahead log of document changes, so an acknowledged write survives a killed server.

Each change is one JSON line with its vectors (base64 float32) and a CRC32 of the line, appended and
fsynced before the client gets its answer. At start the log is replayed onto the saved index; a torn last
line (the server died while writing it, so it was never acknowledged) is cut off with a warning. An append
that fails part way (disk full) is cut off at once, so it cannot sit before later records. After the index
folder is saved with every change in it, the log starts empty.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ternembed.index.errors import IndexFormatError

WAL_FILE = "changes.wal"
_LOGGER = logging.getLogger(__name__)


def encode_vectors(vectors: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode("ascii")


def decode_vectors(text: str, dimension: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(-1, dimension).astype(np.float32)


class WriteAheadLog:
    """Append-only, fsynced JSON lines in ``WAL_FILE`` beside an index folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def records(self) -> list[dict[str, Any]]:
        """The logged changes in order; a damaged last line (never acknowledged) is cut from the file."""
        if not self.path.is_file():
            return []
        content = self.path.read_bytes()
        records, offset = [], 0
        while offset < len(content):
            end = content.find(b"\n", offset)
            end = len(content) if end < 0 else end
            record = _parse(content[offset:end]) if end < len(content) else None
            if record is None:
                if content[end + 1 :].strip():
                    raise IndexFormatError(
                        f"{self.path}: a damaged change record at byte {offset} before others; the log is corrupt: "
                        "move it aside to serve the index as last saved, without the changes it holds"
                    )
                _LOGGER.warning(
                    "%s: ignoring a torn last change record (%d bytes at byte %d) that was never "
                    "acknowledged; kept the %d complete records before it",
                    self.path,
                    len(content) - offset,
                    offset,
                    len(records),
                )
                with open(self.path, "r+b") as file:
                    file.truncate(offset)
                    os.fsync(file.fileno())
                break
            records.append(record)
            offset = end + 1
        return records

    def append(self, record: dict[str, Any]) -> None:
        """Write one change durably (flushed and fsynced) before returning."""
        body = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        line = json.dumps({"crc": zlib.crc32(body.encode()), "change": body}, ensure_ascii=False) + "\n"
        new = not self.path.exists()
        data = line.encode("utf-8")
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            start = os.lseek(descriptor, 0, os.SEEK_END)
            try:
                written = 0
                while written < len(data):
                    written += os.write(descriptor, data[written:])
                os.fsync(descriptor)
            except BaseException:  # a half-written record before later ones would corrupt the log
                os.ftruncate(descriptor, start)
                raise
        finally:
            os.close(descriptor)
        if new:
            _fsync_folder(self.path.parent)


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        outer = json.loads(line.decode("utf-8"))
        body = outer["change"]
        if zlib.crc32(body.encode()) != outer["crc"]:
            return None
        return json.loads(body)
    except (ValueError, KeyError, TypeError):
        return None


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
