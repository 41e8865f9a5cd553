"""JSON files read with every problem named by file (and, for JSON lines, by line)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def iter_json_objects(
    path: str | os.PathLike, error: type[Exception]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of ``path``.

    Invalid UTF-8, invalid JSON or a line that is not a JSON object raises ``error`` with a message
    starting ``path:line:``, so the caller's own exception type reaches the user.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as problem:
                raise error(f"{where}: not valid UTF-8 ({problem.reason} at byte {problem.start})") from None
            except json.JSONDecodeError as problem:
                raise error(f"{where}: not valid JSON ({problem.msg} at column {problem.colno})") from None
            if not isinstance(record, dict):
                raise error(f"{where}: expected a JSON object, got {type(record).__name__}")
            yield number, record


def read_json_object(path: str | os.PathLike, error: type[Exception], fix: str) -> dict[str, Any]:
    """The JSON object in ``path``; ``error`` naming the file and ending in ``fix`` when it cannot be
    read, is not valid JSON or UTF-8, or holds something other than an object."""
    try:
        value = json.loads(Path(path).read_bytes())
    except (OSError, ValueError) as problem:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise error(f"{path} is not valid JSON ({problem}); {fix}") from None
    if not isinstance(value, dict):
        raise error(f"{path} must hold a JSON object, found {type(value).__name__}; {fix}")
    return value
