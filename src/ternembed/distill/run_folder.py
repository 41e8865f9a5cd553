"""The output folder of a run: built as ``OUT.partial/`` and renamed to ``OUT`` only when complete.

While training, ``OUT.partial/`` holds the checkpoint; at the end the frozen model is written to
``OUT.partial/model/`` and renamed to ``OUT``. So ``OUT`` either does not exist or is a finished,
loadable model folder, whatever moment a run is killed at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

RUN_CONFIG_FILE = "distill_config.json"
"""The full run configuration, written beside the saved model."""


class OutputExistsError(FileExistsError):
    """The output folder (or an interrupted run's partial folder) exists and may not be replaced."""


class RunFolder:
    """Paths and transitions of one run's output."""

    def __init__(self, out: str | os.PathLike) -> None:
        self.out = Path(out).expanduser().resolve()
        self.partial = self.out.parent / f"{self.out.name}.partial"
        self.staging = self.partial / "model"

    @property
    def finished(self) -> bool:
        """True when ``OUT`` holds a completed run."""
        return (self.out / RUN_CONFIG_FILE).is_file()

    def check(self, overwrite: bool, resume: bool) -> None:
        """Refuse to touch an existing ``OUT`` or ``OUT.partial`` unless ``--overwrite``/``--resume`` allow it."""
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

    def open(self, overwrite: bool, resume: bool) -> None:
        """Create ``OUT.partial`` (emptied first on ``--overwrite`` without ``--resume``)."""
        self.check(overwrite, resume)
        if overwrite and not resume:
            shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)

    def finish(self, write_model: Callable[[Path], None]) -> Path:
        """Write the model into the staging folder with ``write_model``, then rename it to ``OUT``."""
        shutil.rmtree(self.staging, ignore_errors=True)
        write_model(self.staging)
        if self.out.exists():
            trash = self.out.parent / f".{self.out.name}.replaced-{os.getpid()}"
            self.out.rename(trash)
            self.staging.rename(self.out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            self.staging.rename(self.out)
        shutil.rmtree(self.partial, ignore_errors=True)
        return self.out

    def discard_partial(self) -> None:
        """Remove what an already finished run left behind (a kill between rename and clean-up)."""
        shutil.rmtree(self.partial, ignore_errors=True)
