"""Write a frozen ternary SentenceTransformer to a folder that stock tools recognise.

The folder is built next to the target and swapped into place (:mod:`ternembed.io.output_folder`),
so a crash never leaves a half-written model where a finished one is expected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn

from ternembed.config import CONFIG_FILENAME, TernaryConfig
from ternembed.io.errors import UnsupportedArchitectureError
from ternembed.io.manifest import QUANT_METHOD, describe_model
from ternembed.io.model_card import write_model_card
from ternembed.io.output_folder import check_output_folder, write_output_folder
from ternembed.io.stock_loaders import mark_hf_config
from ternembed.nn import PackedTernaryLinear, QuantizedEmbedding, TernaryLinear

WEIGHTS_FILENAME = "model.safetensors"
HF_CONFIG_FILENAME = "config.json"


def hf_model_of(model: nn.Module) -> nn.Module:
    """The Hugging Face model inside a SentenceTransformer (its first module's ``auto_model``)."""
    first = model[0] if isinstance(model, nn.Sequential) and len(model) else None
    hf_model = getattr(first, "auto_model", None)
    if not isinstance(hf_model, nn.Module):
        raise UnsupportedArchitectureError(
            f"save expects a SentenceTransformer whose first module wraps a Hugging Face model "
            f"(sentence_transformers Transformer); got {type(model).__name__} with first module "
            f"{type(first).__name__}"
        )
    return hf_model


def _check_quantized_modules_inside(model: nn.Module, hf_model: nn.Module) -> None:
    inside = {id(m) for m in hf_model.modules()}
    for name, module in model.named_modules():
        if isinstance(module, TernaryLinear):
            raise UnsupportedArchitectureError(
                f"layer {name!r} is still a trainable TernaryLinear; call ternembed.freeze(model, config) first"
            )
        if isinstance(module, (PackedTernaryLinear, QuantizedEmbedding)) and id(module) not in inside:
            raise UnsupportedArchitectureError(
                f"quantized module {name!r} lies outside the Hugging Face model; only layers of the "
                "transformer can be saved packed (narrow TernaryConfig.include to the encoder)"
            )


def save(
    model: nn.Module,
    out_dir: str | os.PathLike,
    config: TernaryConfig,
    *,
    base_model: str | None = None,
    quality: dict[str, float] | None = None,
    overwrite: bool = False,
    inputs: Sequence[str | os.PathLike | None] = (),
) -> Path:
    """Save a frozen ternary SentenceTransformer to ``out_dir`` and return the folder.

    Args:
        model: a SentenceTransformer after :func:`ternembed.prepare` and :func:`ternembed.freeze`.
        out_dir: target folder; it must not exist or be empty unless ``overwrite`` is set.
        config: the TernaryConfig the model was quantized with.
        base_model: name or path of the full-precision model, recorded in the manifest and model card.
        quality: optional metrics (e.g. ``{"cosine_to_base": 0.93}``) shown in the model card.
        overwrite: replace an existing non-empty folder (only a ternembed model, run or index folder).
        inputs: files or folders the model was read from; ``out_dir`` may not be, hold or lie inside one.
    """
    target = check_output_folder(out_dir, overwrite=overwrite, inputs=inputs)
    hf_model = hf_model_of(model)
    _check_quantized_modules_inside(model, hf_model)
    manifest = describe_model(hf_model, config, base_model)
    if not manifest.layers:
        raise UnsupportedArchitectureError(
            "the model holds no PackedTernaryLinear layer; call ternembed.prepare and ternembed.freeze first"
        )

    def write(staging: Path) -> None:
        model.save(str(staging), create_model_card=False)
        _write_weights(hf_model, staging / WEIGHTS_FILENAME)
        _add_quantization_config(staging / HF_CONFIG_FILENAME, manifest.to_dict())
        (staging / CONFIG_FILENAME).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
        write_model_card(staging, quality)

    return write_output_folder(target, write, overwrite=overwrite, inputs=inputs)


def _write_weights(hf_model: nn.Module, path: Path) -> None:
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in hf_model.state_dict().items()}
    save_file(_untie(state), str(path), metadata={"format": "pt", "quant_method": QUANT_METHOD})


def _untie(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Copy tensors that share storage (tied weights), which safetensors refuses to write twice."""
    seen: set[int] = set()
    result = {}
    for name, tensor in state.items():
        pointer = tensor.untyped_storage().data_ptr() if tensor.numel() else -1
        result[name] = tensor.clone() if pointer in seen else tensor
        seen.add(pointer)
    return result


def _add_quantization_config(path: Path, manifest: dict[str, Any]) -> None:
    hf_config = mark_hf_config(json.loads(path.read_text()))
    hf_config["quantization_config"] = {"quant_method": QUANT_METHOD, **manifest}
    path.write_text(json.dumps(hf_config, indent=2, sort_keys=True) + "\n")
