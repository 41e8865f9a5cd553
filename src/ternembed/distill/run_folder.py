"""The output folder of a run: ``OUT.partial/`` holds the checkpoint, ``OUT`` only a finished model.

While training, ``OUT.partial/`` holds the checkpoint; at the end the frozen model is written beside
``OUT`` and swapped in (:func:`ternembed.io.output_folder.write_output_folder`), then the partial
folder is removed. So ``OUT`` is missing, the previous finished model or the new one, whatever moment
a run is killed at. Only folders that ternembed wrote are ever replaced or removed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from ternembed.distill.checkpoint import CHECKPOINT_DIR
from ternembed.errors import TernembedError
from ternembed.io.output_folder import (
    RUN_CONFIG_FILE,
    ForeignFolderError,
    check_apart,
    check_output_folder,
    recover_output_folder,
    resolve_output,
    write_output_folder,
)

__all__ = ["RUN_CONFIG_FILE", "OutputExistsError", "RunFolder"]

PARTIAL_ENTRIES = {CHECKPOINT_DIR, f"{CHECKPOINT_DIR}.tmp", f"{CHECKPOINT_DIR}.old", "model"}
"""What a run's ``OUT.partial/`` may hold (``model`` was the staging folder of earlier versions)."""


class OutputExistsError(TernembedError, FileExistsError):
    """The output folder (or an interrupted run's partial folder) exists and may not be replaced."""


class RunFolder:
    """Paths and transitions of one run's output."""

    def __init__(self, out: str | os.PathLike) -> None:
        self.out = resolve_output(out)
        self.partial = self.out.parent / f"{self.out.name}.partial"

    @property
    def finished(self) -> bool:
        """True when ``OUT`` holds a completed run."""
        return (self.out / RUN_CONFIG_FILE).is_file()

    def check(self, overwrite: bool, resume: bool, inputs: Iterable[str | os.PathLike | None] = ()) -> None:
        """Refuse to touch an existing ``OUT`` or ``OUT.partial`` unless ``--overwrite``/``--resume`` allow it,
        an output that is or holds an input, a folder ternembed did not write, or an unwritable place."""
        if self.out.exists() and not (overwrite or resume):
            raise OutputExistsError(
                f"output folder {str(self.out)!r} exists; pass --overwrite to replace it or choose another --out"
            )
        if self.out.exists() and not overwrite and not self.finished:
            raise OutputExistsError(
                f"{str(self.out)!r} exists but is not a finished distillation run; pass --overwrite to replace it"
            )
        if self.partial.exists() and not (overwrite or resume):
            raise OutputExistsError(
                f"an interrupted run left {str(self.partial)!r}; pass --resume to continue it or --overwrite "
                "to start over"
            )
        inputs = list(inputs)
        check_output_folder(self.out, overwrite=True, inputs=inputs)
        check_apart(self.partial, inputs)
        if not self._partial_is_ours():
            raise ForeignFolderError(
                f"{str(self.partial)!r} holds files that are not a distillation checkpoint; it is never "
                "replaced, move it away or choose another --out"
            )

    def _partial_is_ours(self) -> bool:
        if not self.partial.exists():
            return True
        return self.partial.is_dir() and all(
            entry.name in PARTIAL_ENTRIES for entry in self.partial.iterdir()
        )

    def open(self, overwrite: bool, resume: bool, inputs: Iterable[str | os.PathLike | None] = ()) -> None:
        """Create ``OUT.partial`` (emptied first on ``--overwrite`` without ``--resume``)."""
        self.check(overwrite, resume, inputs)
        recover_output_folder(self.out)
        if overwrite and not resume:
            shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir(parents=True, exist_ok=True)

    def finish(self, write_model: Callable[[Path], None]) -> Path:
        """Write the model with ``write_model(folder)`` (``folder`` does not exist yet), swap it in as ``OUT``."""

        def write(staging: Path) -> None:
            staging.rmdir()
            write_model(staging)

        write_output_folder(self.out, write, overwrite=True)
        shutil.rmtree(self.partial, ignore_errors=True)
        return self.out

    def discard_partial(self) -> None:
        """Remove what an already finished run left behind (a kill between the swap and the clean-up)."""
        shutil.rmtree(self.partial, ignore_errors=True)
