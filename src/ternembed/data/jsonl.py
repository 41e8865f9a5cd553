"""JSON-lines files read one line at a time, every problem named by file and line."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
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
