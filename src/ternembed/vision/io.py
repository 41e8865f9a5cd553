"""Save and load image encoders, full precision or packed ternary.

A folder holds ``config.json``, ``preprocessor_config.json``, ``image_encoder.json`` (pooling and
backbone kind) and ``model.safetensors``. A ternary folder adds ``ternary_config.json``: the same
manifest :func:`ternembed.save` writes for text models (:mod:`ternembed.io.manifest`), and its
``model.safetensors`` holds the packed codes (``<layer>.weight_packed``) and scales
(``<layer>.weight_scale``) as sibling tensors. Packed 1x1 convolutions are manifest layers too
(their weight is an ``[out, in]`` matrix); on load a layer becomes a packed convolution when the
fresh model has a convolution at that name. A full-precision folder is also a plain Hugging Face
model folder (``AutoModel.from_pretrained`` reads it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoConfig, AutoModel

from ternembed.config import CONFIG_FILENAME, TernaryConfig
from ternembed.errors import TernembedError
from ternembed.io.manifest import Manifest, describe_model
from ternembed.io.output_folder import IMAGE_ENCODER_FILE
from ternembed.io.validate import check_tensor_values, check_weights, read_json, stored_tensor_specs
from ternembed.nn import PackedTernaryLinear, TernaryLinear
from ternembed.vision.conv import PackedTernaryConv1x1, TernaryConv1x1
from ternembed.vision.encoder import ImageEncoder
from ternembed.vision.processor import load_image_processor

ENCODER_FILENAME = IMAGE_ENCODER_FILE
WEIGHTS_FILENAME = "model.safetensors"


class ImageCheckpointError(TernembedError, ValueError):
    """An image-encoder folder is missing a file or its files disagree."""


def save_image_encoder(
    encoder: ImageEncoder,
    folder: str | os.PathLike,
    config: TernaryConfig | None = None,
    base_model: str | None = None,
) -> Path:
    """Write ``encoder`` to ``folder``.

    Args:
        encoder: a full-precision encoder, or one after prepare and freeze.
        folder: target folder (created; existing files are replaced).
        config: the :class:`TernaryConfig` used, required when the encoder holds ternary layers.
        base_model: name or folder of the full-precision original, recorded in the manifest.
    """
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
        manifest = describe_model(encoder.model, config, base_model)
        (folder / CONFIG_FILENAME).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
    return folder


def _build_backbone(folder: Path) -> nn.Module:
    """A randomly initialised backbone of the architecture in ``config.json``."""
    model_type = read_json(folder / "config.json").get("model_type")
    if model_type == "efficientnet_lite":
        from ternembed.vision.efficientnet import EfficientNetLiteBackbone, EfficientNetLiteConfig

        return EfficientNetLiteBackbone(EfficientNetLiteConfig.from_pretrained(str(folder)))
    return AutoModel.from_config(AutoConfig.from_pretrained(str(folder)))


def _install_packed_layers(model: nn.Module, manifest: Manifest) -> None:
    """Replace each module the manifest lists with an empty packed one (a 1x1 conv stays a conv)."""
    for entry in manifest.layers:
        module = model.get_submodule(entry.name)
        out_features, in_features = entry.shape
        if isinstance(module, nn.Conv2d):
            shape = (module.out_channels, module.in_channels)
            layer_class = PackedTernaryConv1x1
        elif isinstance(module, nn.Linear):
            shape = (module.out_features, module.in_features)
            layer_class = PackedTernaryLinear
        else:
            raise ImageCheckpointError(
                f"{CONFIG_FILENAME} lists {entry.name!r} as a ternary layer but it is a {type(module).__name__} "
                "in the model built from config.json, not a linear layer or 1x1 convolution"
            )
        if shape != tuple(entry.shape):
            raise ImageCheckpointError(
                f"{CONFIG_FILENAME} lists {entry.name!r} with shape {list(entry.shape)} but the model built from "
                f"config.json has {list(shape)}: the files come from different saves"
            )
        layer = layer_class(
            in_features,
            out_features,
            bias=entry.bias,
            storage=entry.storage,
            group_size=entry.group_size,
            activations=entry.activations,
            scale_shape=entry.scale_shape,
        )
        _set_submodule(model, entry.name, layer)
    for entry in manifest.embeddings:
        _set_submodule(model, entry.name, entry.build())


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child_name = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child_name, module)


def load_image_encoder(folder: str | os.PathLike) -> ImageEncoder:
    """Restore an image encoder written by :func:`save_image_encoder` (full precision or packed ternary)."""
    folder = Path(folder)
    for required in ("config.json", WEIGHTS_FILENAME, ENCODER_FILENAME):
        if not (folder / required).is_file():
            raise ImageCheckpointError(
                f"{folder} is not an image-encoder folder: {required} is missing (save one with save_image_encoder)"
            )
    weights = folder / WEIGHTS_FILENAME
    settings = read_json(folder / ENCODER_FILENAME)
    model = _build_backbone(folder)
    if (folder / CONFIG_FILENAME).is_file():
        manifest = Manifest.from_dict(
            read_json(folder / CONFIG_FILENAME), source=str(folder / CONFIG_FILENAME)
        )
        check_weights(weights, manifest)
        _install_packed_layers(model, manifest)
    else:
        stored_tensor_specs(weights)
    state = load_file(weights)
    if (folder / CONFIG_FILENAME).is_file():
        check_tensor_values(state, manifest, weights, max_abs=None)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing and all(key.startswith("pooler.") for key in missing) and hasattr(model, "pooler"):
        model.pooler = None  # saved without a pooling layer (e.g. ViTModel(add_pooling_layer=False))
        missing = []
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
