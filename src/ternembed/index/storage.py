"""Writing an index folder atomically: built beside the target, then swapped in (io.output_folder)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from ternembed.io.output_folder import INDEX_CONFIG_FILE, write_output_folder

CONFIG_FILE = INDEX_CONFIG_FILE
IDS_FILE = "ids.jsonl"


def write_folder_atomically(
    target: str | os.PathLike, write: Callable[[Path], None], inputs: Iterable[str | os.PathLike | None] = ()
) -> Path:
    """Call ``write(tmp_folder)`` and move the result to ``target``; an existing index there is replaced.

    Readers see either the old folder or the new one, never a half-written one; a failed write leaves
    ``target`` untouched. A non-empty folder that is not ours (an index, model or run) is never replaced.
    """
    return write_output_folder(target, write, overwrite=True, inputs=inputs)
