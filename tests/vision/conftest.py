"""Tiny random image encoders for the vision tests."""

from __future__ import annotations

import pytest
import transformers

from ternembed.vision import ImageEncoder
from tests.tiny_models import TINY, tiny_vision_model


def tiny_encoder(kind: str, pooling: str = "cls") -> ImageEncoder:
    """An :class:`ImageEncoder` over a tiny random ``vit``, ``clip-vision``, ``clip`` or ``dinov2`` model."""
    if kind == "dinov2":
        model = transformers.Dinov2Model(transformers.Dinov2Config(image_size=32, patch_size=8, **TINY))
    elif kind == "clip":
        config = transformers.CLIPConfig(
            text_config={"vocab_size": 100, **TINY}, vision_config={"image_size": 32, "patch_size": 8, **TINY}
        )
        model = transformers.CLIPModel(config)
    else:
        model = tiny_vision_model(kind)
    return ImageEncoder(model.eval(), pooling=pooling)


@pytest.fixture(params=["vit", "clip-vision", "clip", "dinov2"])
def any_encoder(request) -> ImageEncoder:
    return tiny_encoder(request.param)
