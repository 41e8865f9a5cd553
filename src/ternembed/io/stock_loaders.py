"""``ternembed-<type>`` architectures, so stock loaders refuse a packed folder unless ternembed is imported.

A folder written by :func:`ternembed.save` names its architecture ``ternembed-bert`` (``ternembed-mpnet``,
...) in ``config.json``. A plain transformers install does not know that model type, so
``AutoModel.from_pretrained(DIR)`` and ``SentenceTransformer(DIR)`` stop with an error naming it instead
of loading random weights. ``import ternembed`` registers, through transformers' public
``AutoConfig.register`` / ``AutoModel.register``, a config and model class for each such type: thin
subclasses of the original ones (``TernembedBertConfig(BertConfig)``, ``TernembedBertModel(BertModel)``),
so everything that works on a ``BertModel`` works on them, and the ``ternembed`` quantizer fills their
packed layers from ``model.safetensors``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MODEL_TYPE_PREFIX = "ternembed-"
DEFAULT_ARCHITECTURES = ("bert", "mpnet", "roberta", "xlm-roberta", "distilbert", "electra", "deberta-v2")
"""Base model types registered on ``import ternembed``; others are registered when a folder needs them."""

_registered: dict[str, tuple[type, type]] = {}


def ternembed_model_type(model_type: str) -> str:
    """The model type a packed folder records for a base architecture (``bert`` -> ``ternembed-bert``)."""
    return model_type if model_type.startswith(MODEL_TYPE_PREFIX) else MODEL_TYPE_PREFIX + model_type


def base_model_type(model_type: str) -> str:
    """The original architecture behind a model type (``ternembed-bert`` -> ``bert``; ``bert`` stays)."""
    return model_type.removeprefix(MODEL_TYPE_PREFIX)


def mark_hf_config(hf_config: dict[str, Any]) -> dict[str, Any]:
    """``config.json`` contents with the model type of a packed folder (idempotent)."""
    return {**hf_config, "model_type": ternembed_model_type(hf_config["model_type"])}


def register_architecture(model_type: str) -> tuple[type, type] | None:
    """Register ``ternembed-<type>`` with AutoConfig and AutoModel; None if transformers lacks ``type``.

    Idempotent. The classes are also set on this module, so models holding them can be pickled.
    """
    base = base_model_type(model_type)
    if base in _registered:
        return _registered[base]
    from transformers import AutoConfig, AutoModel
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    from transformers.models.auto.modeling_auto import MODEL_MAPPING

    if base not in CONFIG_MAPPING:
        return None
    base_config = CONFIG_MAPPING[base]
    if base_config not in MODEL_MAPPING:
        return None
    base_model = MODEL_MAPPING[base_config]
    if isinstance(base_model, (list, tuple)):
        base_model = base_model[0]
    config_class = _define(
        f"Ternembed{base_config.__name__}", base_config, model_type=ternembed_model_type(base)
    )
    model_class = _define(f"Ternembed{base_model.__name__}", base_model, config_class=config_class)
    AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
    AutoModel.register(config_class, model_class, exist_ok=True)
    _registered[base] = (config_class, model_class)
    return config_class, model_class


def _define(name: str, base: type, **attributes: Any) -> type:
    cls = type(name, (base,), {"__module__": __name__, "__qualname__": name, **attributes})
    setattr(sys.modules[__name__], name, cls)
    return cls


def register_default_architectures() -> None:
    """Register every architecture of :data:`DEFAULT_ARCHITECTURES` that this transformers knows."""
    for model_type in DEFAULT_ARCHITECTURES:
        register_architecture(model_type)


def register_folder_architecture(folder: Path) -> None:
    """Register the ``ternembed-<type>`` architecture a folder's ``config.json`` names, if any."""
    try:
        model_type = json.loads((folder / "config.json").read_text()).get("model_type")
    except (OSError, ValueError, AttributeError):
        return  # the checks that follow report an unreadable config.json
    if isinstance(model_type, str) and model_type.startswith(MODEL_TYPE_PREFIX):
        register_architecture(model_type)
