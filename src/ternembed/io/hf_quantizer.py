"""A ``ternembed`` quantizer registered with transformers, so stock loaders read packed folders.

After ``import ternembed``, ``AutoModel.from_pretrained(DIR)`` (and therefore
``SentenceTransformer(DIR)``) sees ``"quant_method": "ternembed"`` in ``config.json``, builds the
model skeleton, swaps the listed modules for empty :class:`PackedTernaryLinear` /
:class:`QuantizedEmbedding` modules, lets transformers fill their buffers from ``model.safetensors``,
and gives the encoder the fused C forward. The import also registers the ``ternembed-<type>``
architectures such folders name (:mod:`ternembed.io.stock_loaders`); without it, transformers refuses
them (see docs/LOADING.md).
"""

from __future__ import annotations

from typing import Any

from transformers.quantizers.auto import (
    AUTO_QUANTIZATION_CONFIG_MAPPING,
    AUTO_QUANTIZER_MAPPING,
    register_quantization_config,
    register_quantizer,
)
from transformers.quantizers.base import HfQuantizer
from transformers.utils.quantization_config import QuantizationConfigMixin

from ternembed.io.manifest import QUANT_METHOD, Manifest, install_empty_modules
from ternembed.io.stock_loaders import register_default_architectures
from ternembed.nn import enable_fused_encoder


class TernembedQuantConfig(QuantizationConfigMixin):
    """The ``quantization_config`` entry of ``config.json``: the quant method plus the manifest."""

    def __init__(
        self,
        format_version: int,
        ternary_config: dict[str, Any],
        layers: list[dict[str, Any]],
        embeddings: list[dict[str, Any]],
        base_model: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.quant_method = QUANT_METHOD
        self.format_version = format_version
        self.base_model = base_model
        self.ternary_config = ternary_config
        self.layers = layers
        self.embeddings = embeddings

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> TernembedQuantConfig:
        return cls(**manifest.to_dict())

    def manifest(self) -> Manifest:
        return Manifest.from_dict(self.to_dict(), source="config.json quantization_config")


class TernembedHfQuantizer(HfQuantizer):
    """Loads pre-packed ternembed checkpoints; it cannot quantize a float model on the fly."""

    requires_calibration = True

    def _process_model_before_weight_loading(self, model, **kwargs):  # noqa: ANN001, ANN003
        return install_empty_modules(model, self.quantization_config.manifest())

    def _process_model_after_weight_loading(self, model, **kwargs):  # noqa: ANN001, ANN003
        enable_fused_encoder(model)
        return model

    def is_serializable(self) -> bool:
        return True

    @property
    def is_trainable(self) -> bool:
        return False


def register_with_transformers() -> None:
    """Register the ``ternembed`` quant method and the default ``ternembed-<type>`` architectures (idempotent)."""
    if QUANT_METHOD not in AUTO_QUANTIZATION_CONFIG_MAPPING:
        register_quantization_config(QUANT_METHOD)(TernembedQuantConfig)
    if QUANT_METHOD not in AUTO_QUANTIZER_MAPPING:
        register_quantizer(QUANT_METHOD)(TernembedHfQuantizer)
    register_default_architectures()
