"""Save and load image encoders, full precision or packed ternary.

A folder holds ``config.json``, ``preprocessor_config.json``, ``image_encoder.json`` (pooling and
backbone kind) and ``model.safetensors``. A ternary folder adds ``ternary_config.json``; its
``model.safetensors`` holds the packed codes (``<layer>.weight_packed``) and scales
(``<layer>.weight_scale``) as sibling tensors, as text models do. A full-precision folder is also a
plain Hugging Face model folder (``AutoModel.from_pretrained`` reads it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoConfig, AutoModel

from ternembed.config import CONFIG_FILENAME, TernaryConfig
from ternembed.formats import get_format
from ternembed.nn import PackedTernaryLinear, QuantizedEmbedding, TernaryLinear
from ternembed.vision.conv import PackedTernaryConv1x1, TernaryConv1x1
from ternembed.vision.encoder import ImageEncoder
from ternembed.vision.processor import load_image_processor

ENCODER_FILENAME = "image_encoder.json"
WEIGHTS_FILENAME = "model.safetensors"
EMBEDDING_BUFFERS = {"weight_fp16": "fp16", "weight_int8": "int8", "weight_int4": "int4"}


class ImageCheckpointError(ValueError):
    """An image-encoder folder is missing a file or its files disagree."""


def save_image_encoder(
    encoder: ImageEncoder, folder: str | os.PathLike, config: TernaryConfig | None = None
) -> Path:
    """Write ``encoder`` to ``folder``; pass the :class:`TernaryConfig` used when it holds ternary layers."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if any(isinstance(m, (TernaryLinear, TernaryConv1x1)) for m in encoder.model.modules()):
        raise ImageCheckpointError(
            "call freeze() before saving a ternary encoder (it still holds train-time layers)"
        )
    is_ternary = any(isinstance(m, PackedTernaryLinear) for m in encoder.model.modules())
    if is_ternary and config is None:
        raise ImageCheckpointError(
            "this encoder holds ternary layers: pass the TernaryConfig used to prepare it"
        )
    encoder.config.save_pretrained(folder)
    encoder.processor.save_pretrained(folder)
    state = {name: tensor.detach().contiguous() for name, tensor in encoder.model.state_dict().items()}
    save_file(state, folder / WEIGHTS_FILENAME, metadata={"format": "pt"})
    (folder / ENCODER_FILENAME).write_text(
        json.dumps({"pooling": encoder.pooling, "model_type": encoder.config.model_type}, indent=2) + "\n"
    )
    if is_ternary:
        (folder / CONFIG_FILENAME).write_text(config.to_json() + "\n")
    return folder


def _build_backbone(folder: Path) -> nn.Module:
    """A randomly initialised backbone of the architecture in ``config.json``."""
    model_type = json.loads((folder / "config.json").read_text()).get("model_type")
    if model_type == "efficientnet_lite":
        from ternembed.vision.efficientnet import EfficientNetLiteBackbone, EfficientNetLiteConfig

        return EfficientNetLiteBackbone(EfficientNetLiteConfig.from_pretrained(str(folder)))
    return AutoModel.from_config(AutoConfig.from_pretrained(str(folder)))


def _install_packed_layers(model: nn.Module, state: dict[str, torch.Tensor], config: TernaryConfig) -> None:
    """Replace each layer that ``state`` stores packed with an empty packed layer of the same shape."""
    fmt = get_format(config.storage)
    for key in [k for k in state if k.endswith(".weight_packed")]:
        name = key.removesuffix(".weight_packed")
        module = model.get_submodule(name)
        if isinstance(module, nn.Conv2d):
            layer_class, in_features, out_features = (
                PackedTernaryConv1x1,
                module.in_channels,
                module.out_channels,
            )
        elif isinstance(module, nn.Linear):
            layer_class, in_features, out_features = (
                PackedTernaryLinear,
                module.in_features,
                module.out_features,
            )
        else:
            raise ImageCheckpointError(
                f"{key}: layer {name!r} is a {type(module).__name__}, not a linear or 1x1 conv"
            )
        expected = fmt.packed_shape((out_features, in_features))
        if tuple(state[key].shape) != expected:
            raise ImageCheckpointError(
                f"{key} has shape {tuple(state[key].shape)} but a {out_features}x{in_features} layer packed as "
                f"{config.storage} needs {expected}: ternary_config.json disagrees with the weights"
            )
        layer = layer_class(
            in_features,
            out_features,
            bias=f"{name}.bias" in state,
            storage=config.storage,
            group_size=config.group_size,
            activations=config.activations,
            scale_shape=tuple(state[f"{name}.weight_scale"].shape),
        )
        parent_name, _, child_name = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, child_name, layer)
    for key, precision in [
        (k, p) for k in state for suffix, p in EMBEDDING_BUFFERS.items() if k.endswith("." + suffix)
    ]:
        name = key.rsplit(".", 1)[0]
        embedding = model.get_submodule(name)
        replacement = QuantizedEmbedding(
            embedding.num_embeddings, embedding.embedding_dim, precision, embedding.padding_idx
        )
        parent_name, _, child_name = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, child_name, replacement)


def load_image_encoder(folder: str | os.PathLike) -> ImageEncoder:
    """Restore an image encoder written by :func:`save_image_encoder` (full precision or packed ternary)."""
    folder = Path(folder)
    for required in ("config.json", WEIGHTS_FILENAME, ENCODER_FILENAME):
        if not (folder / required).is_file():
            raise ImageCheckpointError(
                f"{folder} is not an image-encoder folder: {required} is missing (save one with save_image_encoder)"
            )
    try:
        state = load_file(folder / WEIGHTS_FILENAME)
    except (SafetensorError, OSError) as error:
        raise ImageCheckpointError(f"{folder / WEIGHTS_FILENAME} is truncated or corrupt: {error}") from None
    settings = json.loads((folder / ENCODER_FILENAME).read_text())
    model = _build_backbone(folder)
    if (folder / CONFIG_FILENAME).is_file():
        config = TernaryConfig.from_dict(json.loads((folder / CONFIG_FILENAME).read_text()))
        _install_packed_layers(model, state, config)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ImageCheckpointError(
            f"{folder / WEIGHTS_FILENAME} does not fit {type(model).__name__}: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}"
        )
    model.eval()
    return ImageEncoder(model, load_image_processor(folder, model.config), pooling=settings["pooling"])


def folder_weight_bytes(folder: str | os.PathLike) -> int:
    """Size in bytes of the folder's ``model.safetensors``."""
    return (Path(folder) / WEIGHTS_FILENAME).stat().st_size
