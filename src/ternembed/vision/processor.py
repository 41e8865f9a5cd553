"""Image processors: the model's own when it ships one, a matching default for bare configs.

Pixels are converted to the channel count the model was built for (grayscale -> RGB for a 3-channel
model, RGB -> L for a 1-channel one) before the processor sees them, because Hugging Face processors
normalize with one mean per channel and fail on a channel-count mismatch.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from PIL import Image
from transformers import AutoImageProcessor, PretrainedConfig
from transformers.image_processing_utils import BaseImageProcessor

PREPROCESSOR_FILENAME = "preprocessor_config.json"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def pil_processor_class(name: str) -> type:
    """The PIL-backed processor class (the default ones need torchvision, which we do not install)."""
    import transformers

    return getattr(transformers, f"{name}Pil", None) or getattr(transformers, name)


def default_image_processor(config: PretrainedConfig) -> BaseImageProcessor:
    """A processor that resizes to ``config.image_size`` and normalizes as the model family does.

    Used for models built from a config (tests, a teacher trained here) that have no processor file.
    """
    size = int(config.image_size)
    channels = int(getattr(config, "num_channels", 3))
    if config.model_type.startswith("clip"):
        return pil_processor_class("CLIPImageProcessor")(
            size={"shortest_edge": size},
            crop_size={"height": size, "width": size},
            image_mean=list(CLIP_MEAN[:channels]) if channels == 3 else [CLIP_MEAN[0]],
            image_std=list(CLIP_STD[:channels]) if channels == 3 else [CLIP_STD[0]],
        )
    mean, std = (IMAGENET_MEAN, IMAGENET_STD) if config.model_type == "dinov2" else ((0.5,) * 3, (0.5,) * 3)
    return pil_processor_class("ViTImageProcessor")(
        size={"height": size, "width": size},
        image_mean=list(mean[:channels]) if channels == 3 else [mean[0]],
        image_std=list(std[:channels]) if channels == 3 else [std[0]],
    )


def load_image_processor(folder: str | os.PathLike, config: PretrainedConfig) -> BaseImageProcessor:
    """The processor saved in ``folder`` (``preprocessor_config.json``), else :func:`default_image_processor`."""
    if not (Path(folder) / PREPROCESSOR_FILENAME).is_file():
        return default_image_processor(config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AutoImageProcessor.from_pretrained(str(folder), use_fast=False)


def match_channels(image: Image.Image, num_channels: int) -> Image.Image:
    """Convert ``image`` to ``"RGB"`` for a 3-channel model or ``"L"`` for a 1-channel one."""
    mode = "RGB" if num_channels == 3 else "L"
    return image if image.mode == mode else image.convert(mode)


def pixel_values(processor: BaseImageProcessor, images: list[Image.Image], num_channels: int) -> torch.Tensor:
    """The ``pixel_values`` float tensor ``[N, C, H, W]`` for PIL images of any size and mode."""
    converted = [match_channels(image, num_channels) for image in images]
    return processor(images=converted, return_tensors="pt")["pixel_values"]
