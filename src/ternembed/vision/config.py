"""Which layers of a vision encoder are ternarized by default."""

from __future__ import annotations

from typing import Any

from ternembed.config import TernaryConfig

VISION_INCLUDE = ("*encoder.*", "*layers.*", "*layer.*")
"""Transformer blocks of every supported backbone: transformers 5 names ViT's ``layers.N.*``, CLIP's
``encoder.layers.N.*`` and DINOv2's ``encoder.layer.N.*``."""
VISION_EXCLUDE = ("*pooler*", "*head*", "*classifier*", "*embeddings*")


def vision_ternary_config(**overrides: Any) -> TernaryConfig:
    """A :class:`TernaryConfig` whose include patterns match the blocks of ViT, CLIP vision and DINOv2.

    Patch embeddings (convolutions), position embeddings, norms and poolers stay full precision.
    Position tables are small, so they stay fp32 unless ``embeddings`` is overridden.
    """
    settings: dict[str, Any] = {"include": VISION_INCLUDE, "exclude": VISION_EXCLUDE, "embeddings": "fp32"}
    settings.update(overrides)
    return TernaryConfig(**settings)
