"""A shortcut through the standard text pipeline of a packed model: Transformer -> mean Pooling -> Normalize.

At batch 1 the module stack costs more than the fused C encoder itself: sentence-transformers' Transformer
wrapper, the Hugging Face model's embeddings and mask building, its pooler (whose output the pipeline
never reads) and two more modules. :func:`fast_text_forward` computes the same ``token_embeddings`` and
``sentence_embedding`` in three C calls (embeddings, fused encoder, masked mean + L2 norm), and returns
None whenever the pipeline, the inputs or the fused encoder are not exactly the supported case, so the
caller runs the modules as usual. Embedding tables other than float32 or int8 (fp16, int4), and
embeddings laid out otherwise than BERT's or MPNet's, go through the embeddings module instead.
"""

from __future__ import annotations

import weakref

import torch
from sentence_transformers.base.modules import Transformer
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling
from torch import nn

from ternembed.kernels import ISA_NAMES, native_library, selected_kernel
from ternembed.kernels.native import NativeEmbeddings, native_table, run_embed, run_mean_pool
from ternembed.nn.fused_encoder import FusedEncoderForward
from ternembed.nn.quantized_embedding import QuantizedEmbedding

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


_EMBEDDING_KINDS = {"BertEmbeddings": "bert", "MPNetEmbeddings": "mpnet"}
_native_embeddings: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _table_tensors(embedding: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    if isinstance(embedding, QuantizedEmbedding):
        return (embedding.weight_int8, embedding.weight_scale) if embedding.precision == "int8" else None
    if type(embedding) is nn.Embedding and embedding.weight.dtype == torch.float32:
        return embedding.weight.detach(), None
    return None


def _native_embeddings_of(embeddings: nn.Module) -> NativeEmbeddings | None:
    """The embeddings module's tables for ``te_embed`` (rebuilt when a table changes), or None."""
    kind = _EMBEDDING_KINDS.get(type(embeddings).__name__)
    if kind is None or not isinstance(getattr(embeddings, "LayerNorm", None), nn.LayerNorm):
        return None
    names = ["word_embeddings", "position_embeddings"] + (["token_type_embeddings"] if kind == "bert" else [])
    tables = [_table_tensors(getattr(embeddings, name)) for name in names]
    if any(table is None for table in tables):
        return None
    norm = embeddings.LayerNorm
    sources = [t for table in tables for t in table if t is not None] + [norm.weight, norm.bias]
    source = tuple((t.data_ptr(), t._version) for t in sources)
    state = _native_embeddings.get(embeddings)
    if state is not None and state.source == source:
        return state
    keep: list[torch.Tensor] = []
    word, position, *token_type = (native_table(values, scale, keep) for values, scale in tables)
    state = NativeEmbeddings(
        keep,
        word,
        token_type[0] if token_type else None,
        position,
        norm.weight.detach().float().contiguous(),
        norm.bias.detach().float().contiguous(),
        norm.eps,
        tables[0][0].shape[1],
        source,
    )
    _native_embeddings[embeddings] = state
    return state


def _embed(
    embeddings: nn.Module, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None, isa: str
) -> torch.Tensor:
    """The embeddings module's output, computed in C where its tables allow."""
    state = _native_embeddings_of(embeddings)
    if state is None:
        inputs = {"input_ids": input_ids}
        if token_type_ids is not None and hasattr(embeddings, "token_type_embeddings"):
            inputs["token_type_ids"] = token_type_ids
        return embeddings(**inputs)
    if state.token_type is None:  # MPNet: positions count non-padding tokens from padding_idx + 1
        not_pad = input_ids.ne(embeddings.padding_idx).long()
        positions = torch.cumsum(not_pad, dim=1) * not_pad + embeddings.padding_idx
        token_type_ids = None
    else:  # BERT: absolute positions, token type 0 unless given
        positions = embeddings.position_ids[:, : input_ids.shape[1]]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
    lib = native_library()[0]
    return run_embed(lib, state, input_ids, token_type_ids, positions, ISA_NAMES.index(isa))


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
    if not fused.available() or hf_model.embeddings.training:
        return None
    input_ids = features["input_ids"]
    mask = features.get("attention_mask")
    if mask is None:
        mask = torch.ones_like(input_ids)
    isa = selected_kernel()
    hidden = fused.run_with_padding_mask(
        _embed(hf_model.embeddings, input_ids, features.get("token_type_ids"), isa), mask, isa
    )
    if hidden is None:
        return None
    pooled = run_mean_pool(native_library()[0], hidden, mask, normalize)
    return {**features, "token_embeddings": hidden, "sentence_embedding": pooled}
