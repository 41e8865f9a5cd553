"""The workflow: ``prepare`` swaps layers for trainable ternary ones, ``freeze`` packs them.

``prepare`` works in place on any ``nn.Module`` (a Hugging Face model or a whole
``SentenceTransformer``): every ``nn.Linear`` whose name matches ``config.include`` and not
``config.exclude`` becomes a :class:`TernaryLinear`; every ``nn.Embedding`` becomes a
:class:`QuantizedEmbedding` unless embeddings stay fp32. ``freeze`` then turns each
``TernaryLinear`` into a :class:`PackedTernaryLinear`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import torch
from torch import nn

from ternembed.config import ACTIVATION_MODES, ConfigError, TernaryConfig
from ternembed.errors import TernembedError
from ternembed.kernels import STATE_LOCK
from ternembed.nn import PackedTernaryLinear, QuantizedEmbedding, TernaryLinear, enable_fused_encoder


class NonFiniteWeightError(TernembedError, ValueError):
    """A weight to be ternarized holds NaN or infinity."""


def select_linear_layers(model: nn.Module, config: TernaryConfig) -> list[str]:
    """Names of the ``nn.Linear`` modules that ``config`` ternarizes, in model order."""
    linear_names = [name for name, module in model.named_modules() if type(module) is nn.Linear]
    chosen = [
        name
        for name in linear_names
        if any(fnmatchcase(name, p) for p in config.include)
        and not any(fnmatchcase(name, p) for p in config.exclude)
    ]
    if not chosen:
        shown = ", ".join(linear_names[:6]) + (" ..." if len(linear_names) > 6 else "")
        raise ConfigError(
            f"include={list(config.include)} / exclude={list(config.exclude)} match no nn.Linear layer; "
            f"this model has {len(linear_names)} linear layers: {shown or 'none'}"
        )
    return chosen


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child_name = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child_name, module)


def _check_finite(name: str, tensor: torch.Tensor) -> None:
    if not torch.isfinite(tensor).all():
        bad = int((~torch.isfinite(tensor)).sum())
        raise NonFiniteWeightError(
            f"layer {name!r} holds {bad} NaN/inf values out of {tensor.numel()}; "
            "fix or re-export the checkpoint before ternarizing"
        )


def prepare(model: nn.Module, config: TernaryConfig | None = None) -> nn.Module:
    """Swap selected linear layers for TernaryLinear and embeddings for QuantizedEmbedding, in place."""
    config = config or TernaryConfig()
    for name in select_linear_layers(model, config):
        linear = model.get_submodule(name)
        _check_finite(name, linear.weight)
        _set_submodule(model, name, TernaryLinear.from_linear(linear, config))
    if config.embeddings != "fp32":
        embedding_names = [name for name, m in model.named_modules() if type(m) is nn.Embedding]
        for name in embedding_names:
            embedding = model.get_submodule(name)
            _check_finite(name, embedding.weight)
            _set_submodule(model, name, QuantizedEmbedding.from_embedding(embedding, config.embeddings))
    return model


def freeze(model: nn.Module, config: TernaryConfig | None = None) -> nn.Module:
    """Replace every TernaryLinear with a PackedTernaryLinear (in place) and return the model."""
    storage = (config or TernaryConfig()).storage
    names = [name for name, m in model.named_modules() if isinstance(m, TernaryLinear)]
    if not names:
        raise ConfigError("freeze found no TernaryLinear layer: call prepare(model, config) first")
    for name in names:
        layer = model.get_submodule(name)
        _set_submodule(model, name, PackedTernaryLinear.from_ternary_linear(layer, storage))
    enable_fused_encoder(model)
    model.eval()
    return model


def set_activations(model: nn.Module, activations: str) -> nn.Module:
    """Run every packed ternary layer with ``float`` or per-token ``int8`` activations (in place).

    The saved weights are the same in both modes; int8 (W1.58A8) is the faster mode of the CPU kernels.
    """
    if activations not in ACTIVATION_MODES:
        raise ConfigError(f"activations must be one of {list(ACTIVATION_MODES)}, got {activations!r}")
    layers = [m for m in model.modules() if isinstance(m, PackedTernaryLinear)]
    if not layers:
        raise ConfigError(
            "the model holds no PackedTernaryLinear layer: load or freeze a ternary model first"
        )
    with STATE_LOCK:  # kernel states are never built halfway through a switch
        for layer in layers:
            layer.activations = activations
            layer.kernel_state = None
    return model


def ternary_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The ternary layers (train-time or packed) of a model by name."""
    return {
        name: m for name, m in model.named_modules() if isinstance(m, (TernaryLinear, PackedTernaryLinear))
    }
