"""prepare / freeze for image encoders: ternary linear layers plus ternary 1x1 convolutions.

The core :func:`ternembed.prepare` handles ``nn.Linear`` (and embeddings); convolutional backbones
also need their pointwise convolutions swapped. Both use the same :class:`TernaryConfig`.
"""

from __future__ import annotations

from torch import nn

from ternembed.config import ConfigError, TernaryConfig
from ternembed.nn import TernaryLinear
from ternembed.quantize import freeze, prepare, select_linear_layers
from ternembed.vision.conv import freeze_pointwise_convs, prepare_pointwise_convs, select_pointwise_convs


def prepare_image_encoder(model: nn.Module, config: TernaryConfig) -> nn.Module:
    """Swap matching linear layers and 1x1 convolutions for trainable ternary ones, in place.

    Raises:
        ConfigError: When the patterns match neither a linear layer nor a 1x1 convolution.
    """
    has_convs = bool(select_pointwise_convs(model, config))
    try:
        select_linear_layers(model, config)
    except ConfigError:
        if not has_convs:
            raise
    else:
        prepare(model, config)
    if has_convs:
        prepare_pointwise_convs(model, config)
    return model


def freeze_image_encoder(model: nn.Module, config: TernaryConfig) -> nn.Module:
    """Pack every ternary linear layer and 1x1 convolution (in place) and return the model in eval mode."""
    converted = freeze_pointwise_convs(model, config)
    if any(isinstance(m, TernaryLinear) for m in model.modules()):
        freeze(model, config)
    elif not converted:
        raise ConfigError("freeze_image_encoder found no ternary layer: call prepare_image_encoder first")
    return model.eval()
