"""Model soups: average the latent (full-precision) weights of students of one teacher, then ternarize.

Students distilled from the same teacher with different seeds start from the same weights and stay
close to them, so the mean of their latent weights is itself a good student and often a better one
than each (Wortsman et al. 2022, "Model soups"). A run keeps its latent weights only when asked
(``ternembed distill --keep-latent``): the frozen model never needs them.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from ternembed.config import CONFIG_FILENAME, TernaryConfig
from ternembed.distill.checkpoint import LATENT_FILE
from ternembed.distill.run_folder import RUN_CONFIG_FILE
from ternembed.errors import TernembedError

SENTENCE_TRANSFORMERS_MODULES = "modules.json"
"""Marks a sentence-transformers folder: the text students that soups support."""
SOUP_FILE = "soup.json"
"""Which runs a soup averaged, written into the soup's folder."""


class SoupError(TernembedError, ValueError):
    """The runs cannot be averaged into one student."""


def soup(runs: Sequence[str | os.PathLike], out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Average the latent weights of finished distillation ``runs``, freeze and save the soup to ``out``.

    Every run must be a text-encoder distillation folder written with ``--keep-latent``, of the same
    teacher and the same ternary config.
    """
    from ternembed.distill.progressive import learn_scales
    from ternembed.distill.trainer import load_teacher
    from ternembed.io import save
    from ternembed.io.output_folder import check_output_folder
    from ternembed.quantize import freeze, prepare

    folders = [Path(run) for run in runs]
    check_output_folder(out, overwrite=overwrite, inputs=folders)
    if len(folders) < 2:
        raise SoupError(f"a soup averages at least two runs, got {len(folders)}")
    if len({folder.resolve() for folder in folders}) < len(folders):
        raise SoupError("the same run is named twice; a soup averages distinct runs")
    run_configs = [_run_config(folder) for folder in folders]
    teacher = _one_value(folders, [c["arguments"]["teacher"] for c in run_configs], "teacher")
    config_dict = _one_value(folders, [c["ternary_config"] for c in run_configs], "ternary config")
    config = TernaryConfig.from_dict(config_dict)
    student = prepare(copy.deepcopy(load_teacher(teacher)), config)
    if _one_value(folders, [c["arguments"].get("learn_scales", False) for c in run_configs], "--learn-scales"):
        learn_scales(student)
    student.load_state_dict(average_states([_latent_state(folder) for folder in folders]))
    path = save(
        freeze(student.eval(), config), out, config, base_model=teacher, overwrite=overwrite, inputs=folders
    )
    record = {
        "runs": [str(folder) for folder in folders],
        "teacher": teacher,
        "seeds": [config["arguments"]["seed"] for config in run_configs],
    }
    (path / SOUP_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return path


def average_states(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of state dicts with the same names, shapes and dtypes (computed in float64)."""
    first = states[0]
    for index, state in enumerate(states[1:], start=2):
        if state.keys() != first.keys():
            differing = sorted(state.keys() ^ first.keys())[:5]
            raise SoupError(f"run {index} holds other tensors than run 1 (e.g. {differing})")
        for name, tensor in state.items():
            if tensor.shape != first[name].shape or tensor.dtype != first[name].dtype:
                raise SoupError(
                    f"tensor {name!r} is {tuple(tensor.shape)} {tensor.dtype} in run {index} but "
                    f"{tuple(first[name].shape)} {first[name].dtype} in run 1"
                )
    averaged = {}
    for name, tensor in first.items():
        if not tensor.is_floating_point():
            averaged[name] = tensor
            continue
        total = sum(state[name].double() for state in states)
        averaged[name] = (total / len(states)).to(tensor.dtype)
    return averaged


def _run_config(folder: Path) -> dict[str, Any]:
    path = folder / RUN_CONFIG_FILE
    if not path.is_file() or not (folder / CONFIG_FILENAME).is_file():
        raise SoupError(f"{str(folder)!r} is not a finished distillation run (no {RUN_CONFIG_FILE})")
    if not (folder / SENTENCE_TRANSFORMERS_MODULES).is_file():
        raise SoupError(
            f"{str(folder)!r} is not a text student (no {SENTENCE_TRANSFORMERS_MODULES}); soups of image "
            "encoders are not supported"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SoupError(f"{str(path)!r} is not valid JSON: {error}") from error


def _latent_state(folder: Path) -> dict[str, torch.Tensor]:
    path = folder / LATENT_FILE
    if not path.is_file():
        raise SoupError(
            f"{str(folder)!r} has no {LATENT_FILE}; distill it with --keep-latent to make it soupable"
        )
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise SoupError(f"{str(path)!r} cannot be read as safetensors: {error}") from error
    bad = [
        name
        for name, tensor in state.items()
        if tensor.is_floating_point() and not torch.isfinite(tensor).all()
    ]
    if bad:
        raise SoupError(f"{str(path)!r} holds non-finite values in {bad[:5]}")
    return state


def _one_value(folders: Sequence[Path], values: Sequence[Any], what: str) -> Any:
    if any(value != values[0] for value in values[1:]):
        listing = "; ".join(f"{folder}: {value}" for folder, value in zip(folders, values, strict=True))
        raise SoupError(f"runs differ in {what}, so their weights do not share a starting point: {listing}")
    return values[0]
