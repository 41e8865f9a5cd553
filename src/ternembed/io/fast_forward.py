"""A shortcut through the standard text pipeline of a packed model: Transformer -> mean Pooling -> Normalize.

At batch 1 the module stack costs more than the fused C encoder itself: sentence-transformers' Transformer
wrapper, the Hugging Face model's mask building, its pooler (whose output the pipeline never reads) and
two more modules. :func:`fast_text_forward` computes the same ``token_embeddings`` and
``sentence_embedding`` directly (embeddings module, fused encoder, masked mean, L2 norm), and returns None
whenever the pipeline, the inputs or the fused encoder are not exactly the supported case, so the caller
runs the modules as usual.
"""

from __future__ import annotations

import torch
from sentence_transformers.base.modules import Transformer
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling
from torch import nn

from ternembed.nn.fused_encoder import FusedEncoderForward

_INPUT_KEYS = {"input_ids", "attention_mask", "token_type_ids", "modality"}
_TEXT_CONFIG = {"method": "forward", "method_output_name": "last_hidden_state"}


def _fused_parts(model: nn.Sequential) -> tuple[nn.Module, FusedEncoderForward, bool] | None:
    """(Hugging Face model, its fused encoder, whether to normalize) for a supported pipeline."""
    modules = list(model.children())
    if len(modules) not in (2, 3) or type(modules[0]) is not Transformer or type(modules[1]) is not Pooling:
        return None
    transformer, pooling = modules[0], modules[1]
    normalize = len(modules) == 3
    if normalize and (
        type(modules[2]) is not Normalize or modules[2].module_input_name != "sentence_embedding"
    ):
        return None
    if pooling.pooling_mode != "mean" or not pooling.include_prompt:
        return None
    if getattr(transformer, "modality_config", {}).get("text") != _TEXT_CONFIG:
        return None
    hf_model = getattr(transformer, "auto_model", None)
    encoder = getattr(hf_model, "encoder", None)
    fused = encoder.__dict__.get("forward") if encoder is not None else None
    if not isinstance(fused, FusedEncoderForward) or not hasattr(hf_model, "embeddings"):
        return None
    config = hf_model.config
    if config.output_hidden_states or config.output_attentions:
        return None
    return hf_model, fused, normalize


def fast_text_forward(model: nn.Sequential, features: dict, kwargs: dict) -> dict | None:
    """The pipeline's output dict for tokenized text, or None to run the modules instead."""
    if kwargs or model.training or torch.is_grad_enabled() or not set(features) <= _INPUT_KEYS:
        return None
    if features.get("modality", "text") != "text":
        return None
    parts = _fused_parts(model)
    if parts is None:
        return None
    hf_model, fused, normalize = parts
    if not fused.available():
        return None
    input_ids = features["input_ids"]
    mask = features.get("attention_mask")
    if mask is None:
        mask = torch.ones_like(input_ids)
    embedding_inputs = {"input_ids": input_ids}
    if features.get("token_type_ids") is not None and fused.kind == "bert":
        embedding_inputs["token_type_ids"] = features["token_type_ids"]
    hidden = fused.run_with_padding_mask(hf_model.embeddings(**embedding_inputs), mask)
    if hidden is None:
        return None
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(dim=1) / torch.clamp(weights.sum(dim=1), min=1e-9)
    if normalize:
        pooled = nn.functional.normalize(pooled, p=2, dim=-1)
    return {**features, "token_embeddings": hidden, "sentence_embedding": pooled}
