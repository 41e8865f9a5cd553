"""Image models by name or folder, and the one-call ternarize-pack-save used by the CLI.

Accepted: a folder written by :func:`~ternembed.vision.io.save_image_encoder`, a Hugging Face folder
of a ``ViTModel`` / ``CLIPVisionModel`` / ``CLIPModel`` / ``Dinov2Model`` (with or without its
``preprocessor_config.json``), or ``efficientnet-lite0`` (the installed ImageNet model).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ternembed.config import TernaryConfig
from ternembed.io.output_folder import check_output_folder, write_output_folder
from ternembed.io.validate import read_json
from ternembed.vision.config import vision_ternary_config
from ternembed.vision.encoder import ImageEncoder, Pooling
from ternembed.vision.io import ENCODER_FILENAME, load_image_encoder, save_image_encoder
from ternembed.vision.processor import load_image_processor
from ternembed.vision.quantize import freeze_image_encoder, prepare_image_encoder

IMAGE_MODEL_TYPES = ("vit", "clip", "clip_vision_model", "dinov2", "efficientnet_lite")
EFFICIENTNET_NAMES = ("efficientnet-lite0", "efficientnet_lite0")


def is_image_model(name_or_path: str | os.PathLike | None) -> bool:
    """True when ``name_or_path`` names an image model this package loads (no model is built)."""
    if name_or_path is None:
        return False
    if str(name_or_path) in EFFICIENTNET_NAMES:
        return True
    folder = Path(name_or_path).expanduser()
    if (folder / ENCODER_FILENAME).is_file():
        return True
    config_file = folder / "config.json"
    if not config_file.is_file():
        return False
    return read_json(config_file).get("model_type") in IMAGE_MODEL_TYPES


def load_image_model(name_or_path: str | os.PathLike, pooling: Pooling | None = None) -> ImageEncoder:
    """An :class:`ImageEncoder` for an image-encoder folder, a Hugging Face vision folder or ``efficientnet-lite0``.

    ``pooling`` overrides the folder's pooling (default ``"cls"`` for Hugging Face folders,
    ``"mean"`` for EfficientNet).
    """
    if str(name_or_path) in EFFICIENTNET_NAMES:
        from ternembed.vision.efficientnet import load_efficientnet_lite0

        encoder = load_efficientnet_lite0()
    else:
        folder = Path(name_or_path).expanduser()
        if not is_image_model(folder):
            raise FileNotFoundError(
                f"{str(folder)!r} is not an image model: expected {ENCODER_FILENAME} or a config.json with "
                f"model_type in {list(IMAGE_MODEL_TYPES)}, or the name 'efficientnet-lite0'"
            )
        if (folder / ENCODER_FILENAME).is_file():
            encoder = load_image_encoder(folder)
        else:
            from transformers import AutoModel

            model = AutoModel.from_pretrained(str(folder), trust_remote_code=False)
            encoder = ImageEncoder(model.eval(), load_image_processor(folder, model.config))
    if pooling is not None:
        ImageEncoder(encoder.model, encoder.processor, pooling)  # validates the name
        encoder.pooling = pooling
    return encoder


def default_image_config(encoder: ImageEncoder, **overrides: Any) -> TernaryConfig:
    """The default :class:`TernaryConfig` for ``encoder``: transformer blocks, or 1x1 convs + classifier."""
    if encoder.config.model_type == "efficientnet_lite":
        from ternembed.vision.efficientnet import efficientnet_ternary_config

        return efficientnet_ternary_config(**overrides)
    return vision_ternary_config(**overrides)


def quantize_image_model(
    name_or_path: str | os.PathLike,
    out: str | os.PathLike,
    pooling: Pooling | None = None,
    overwrite: bool = False,
    **config_overrides: Any,
) -> Path:
    """Load an image model, ternarize and pack it (no training) and save it to ``out``.

    ``config_overrides`` are :class:`TernaryConfig` fields (granularity, threshold, storage, include,
    ...) laid over :func:`default_image_config`. A non-empty ``out`` is replaced only with ``overwrite``
    and only when it is a ternembed folder (:mod:`ternembed.io.output_folder`).
    """
    check_output_folder(out, overwrite=overwrite, inputs=[name_or_path])
    encoder = load_image_model(name_or_path, pooling)
    config = default_image_config(encoder, **config_overrides)
    freeze_image_encoder(prepare_image_encoder(encoder, config), config)
    return write_output_folder(
        out,
        lambda staging: save_image_encoder(encoder, staging, config, base_model=str(name_or_path)),
        overwrite=overwrite,
        inputs=[name_or_path],
    )
