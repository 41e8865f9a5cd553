"""Writing an index folder atomically: build it beside the target, then swap it in with renames."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

CONFIG_FILE = "index_config.json"
IDS_FILE = "ids.jsonl"


def write_folder_atomically(target: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_folder)`` and move the result to ``target``; an existing index there is replaced.

    Readers see either the old folder or the new one, never a half-written one; a failed write leaves
    ``target`` untouched. A non-empty folder that is not an index is never overwritten.
    """
    target = Path(target).expanduser().absolute()
    if target.exists() and not _replaceable(target):
        raise FileExistsError(
            f"{str(target)!r} exists and is not a ternembed index; choose another output folder or remove it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, retired)
        os.replace(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target)
    return target


def _replaceable(folder: Path) -> bool:
    return folder.is_dir() and ((folder / CONFIG_FILE).is_file() or not any(folder.iterdir()))
