"""Training checkpoints: safetensors for tensors, JSON for scalars, swapped in atomically.

``checkpoint/`` always holds one complete state. A new one is written to ``checkpoint.tmp/`` and
renamed into place (the old one is first renamed to ``checkpoint.old/``), so a ``kill -9`` at any
moment leaves either the new or the previous checkpoint readable. :func:`save_latent` writes a finished
student's trainable state into its output folder (``distill --keep-latent``, for soups).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ternembed.data.jsonl import read_json_object
from ternembed.errors import TernembedError
from ternembed.io.info import TRAINING_STATE_FOLDER
from ternembed.io.output_folder import OutputFolderError, apply_umask

CHECKPOINT_DIR = "checkpoint"
MODEL_FILE = "student.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "trainer_state.json"
LATENT_FILE = Path(TRAINING_STATE_FOLDER) / "latent_student.safetensors"
"""The finished student's trainable state (latent weights, norms, biases) inside its output folder."""


class CheckpointError(TernembedError, ValueError):
    """A checkpoint folder is missing a file or does not match the run."""


def save_checkpoint(
    folder: Path, model_state: dict[str, torch.Tensor], optimizer_state: dict[str, Any], state: dict[str, Any]
) -> Path:
    """Write model, optimizer and trainer state under ``folder/checkpoint`` atomically; return its path."""
    final, temporary, old = _paths(folder)
    shutil.rmtree(temporary, ignore_errors=True)
    tensors, optimizer_meta = _flatten_optimizer_state(optimizer_state)
    try:
        temporary.mkdir(parents=True)
        save_file(_cpu_tensors(model_state), temporary / MODEL_FILE)
        save_file(tensors, temporary / OPTIMIZER_FILE)
        (temporary / STATE_FILE).write_text(json.dumps({**state, "optimizer": optimizer_meta}, indent=2))
        apply_umask(temporary)
        _fsync_folder(temporary)
    except OSError as error:
        shutil.rmtree(temporary, ignore_errors=True)
        raise OutputFolderError(
            f"cannot write checkpoint {str(temporary)!r}: {error.strerror or error}; the previous checkpoint "
            "is kept (free space, then --resume)"
        ) from error
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
    temporary.rename(final)
    _fsync_folder(folder)
    shutil.rmtree(old, ignore_errors=True)
    return final


def save_latent(student: nn.Module, folder: Path) -> None:
    """Write the trainable ``student``'s state dict into ``folder`` as :data:`LATENT_FILE`."""
    (folder / LATENT_FILE).parent.mkdir(parents=True, exist_ok=True)
    save_file(_cpu_tensors(student.state_dict()), str(folder / LATENT_FILE))


def _cpu_tensors(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().contiguous().cpu() for name, tensor in state.items()}


def load_checkpoint(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]] | None:
    """(model state, optimizer state, trainer state) of the newest complete checkpoint, or None."""
    final, _, old = _paths(folder)
    source = final if final.exists() else old if old.exists() else None
    if source is None:
        return None
    missing = [name for name in (MODEL_FILE, OPTIMIZER_FILE, STATE_FILE) if not (source / name).is_file()]
    if missing:
        raise CheckpointError(f"checkpoint {str(source)!r} lacks {missing}; start over with --overwrite")
    state = _read_state(source / STATE_FILE)
    if not isinstance(state.get("optimizer"), dict):
        raise CheckpointError(f"{source / STATE_FILE}: no optimizer layout in it; start over with --overwrite")
    optimizer_state = _unflatten_optimizer_state(_read_tensors(source / OPTIMIZER_FILE), state.pop("optimizer"))
    model_state = _read_tensors(source / MODEL_FILE)
    _check_finite(model_state, source / MODEL_FILE)
    return model_state, optimizer_state, state


def _check_finite(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """A run that diverged before its checkpoint must not be resumed into a NaN student."""
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(
                f"{path}: {name} holds NaN or infinite values (training diverged before this checkpoint); "
                "start over with --overwrite and a lower --lr"
            )


def _read_state(path: Path) -> dict[str, Any]:
    return read_json_object(path, CheckpointError, "the checkpoint is damaged; start over with --overwrite")


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(path)
    except (OSError, SafetensorError) as error:
        raise CheckpointError(f"{path}: damaged checkpoint file ({error}); start over with --overwrite") from None


def checkpoint_state(folder: Path) -> dict[str, Any] | None:
    """The trainer state of the newest checkpoint under ``folder`` (no tensors read), or None."""
    final, _, old = _paths(folder)
    for source in (final, old):
        if (source / STATE_FILE).is_file():
            return _read_state(source / STATE_FILE)
    return None


def _paths(folder: Path) -> tuple[Path, Path, Path]:
    return folder / CHECKPOINT_DIR, folder / f"{CHECKPOINT_DIR}.tmp", folder / f"{CHECKPOINT_DIR}.old"


def _flatten_optimizer_state(
    optimizer_state: dict[str, Any],
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into named tensors and a JSON-able rest."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in optimizer_state["state"].items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{name}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(index), {})[name] = value
    meta = {
        "param_groups": optimizer_state["param_groups"],
        "scalars": scalars,
        "indices": list(optimizer_state["state"]),
    }
    return tensors, meta


def _unflatten_optimizer_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {
        int(index): dict(meta["scalars"].get(str(index), {})) for index in meta["indices"]
    }
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        state[int(index)][name] = value
    groups = [
        {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
        for group in meta["param_groups"]
    ]  # JSON turned tuples such as betas into lists
    return {"state": state, "param_groups": groups}


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's files and the folder entry itself, so a rename never exposes unwritten data."""
    for path in [*folder.iterdir(), folder] if folder.is_dir() else [folder]:
        if path.is_dir() and path != folder:
            continue
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
