"""Batch encoders: the one seam between the training loop and a modality.

The loop only sees opaque *items* (texts here; images for a vision encoder). A
:class:`BatchEncoder` knows how long an item is (for length bucketing), how to collate items into a
batch of tensors, and how to run a model on that batch into an :class:`EncoderOutput` that the
losses read. Teacher and student go through the same encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import nn

from ternembed.errors import InvalidArgumentError


@dataclass
class EncoderOutput:
    """What the losses compare.

    Attributes:
        sentence_embedding: pooled embedding ``[batch, dim]``.
        token_embeddings: last hidden states ``[batch, tokens, hidden]`` (patches for images); None for
            precomputed teacher embeddings, which hold the pooled embedding only.
        attention_mask: ``[batch, tokens]`` with 1 on real tokens; all ones for images; None with
            ``token_embeddings``.
        hidden_states: every layer's hidden states (embedding output first) when asked for, else None.
    """

    sentence_embedding: torch.Tensor
    token_embeddings: torch.Tensor | None
    attention_mask: torch.Tensor | None
    hidden_states: tuple[torch.Tensor, ...] | None = None


class BatchEncoder(Protocol):
    """Turns items into model inputs and model outputs into :class:`EncoderOutput`."""

    def lengths(self, items: Sequence[Any]) -> list[int]:
        """Cost of each item (tokens, patches); batches group items of similar length."""
        ...

    def collate(self, items: Sequence[Any]) -> dict[str, Any]:
        """Model inputs for a batch of items, as CPU tensors."""
        ...

    def encode(self, model: nn.Module, batch: dict[str, Any], hidden_states: bool = False) -> EncoderOutput:
        """Run ``model`` (teacher or student, possibly wrapped by DDP) on a collated batch."""
        ...


class TextBatchEncoder:
    """Texts through a ``SentenceTransformer`` (its own tokenizer, pooling and normalization).

    Args:
        model: the teacher SentenceTransformer (its tokenizer is used for both models).
        max_seq_length: texts are truncated to this many tokens.
    """

    def __init__(self, model: nn.Module, max_seq_length: int) -> None:
        self.preprocess = getattr(model, "preprocess", None) or model.tokenize  # tokenize before ST 6
        self.tokenizer = model.tokenizer
        self.max_seq_length = max_seq_length

    def lengths(self, items: Sequence[str]) -> list[int]:
        encoded = self.tokenizer(list(items), truncation=True, max_length=self.max_seq_length)
        return [len(ids) for ids in encoded["input_ids"]]

    def collate(self, items: Sequence[str]) -> dict[str, Any]:
        return self.preprocess(list(items))

    def encode(self, model: nn.Module, batch: dict[str, Any], hidden_states: bool = False) -> EncoderOutput:
        output = model(dict(batch))
        layers = output.get("all_layer_embeddings") if hidden_states else None
        if hidden_states and layers is None:
            raise InvalidArgumentError("the model returned no hidden states; call set_hidden_states(model, True) first")
        return EncoderOutput(
            sentence_embedding=output["sentence_embedding"],
            token_embeddings=output["token_embeddings"],
            attention_mask=output["attention_mask"],
            hidden_states=tuple(layers) if layers is not None else None,
        )


def set_hidden_states(model: nn.Module, enabled: bool) -> None:
    """Make every Hugging Face model inside ``model`` return all hidden states (for the 'layers' loss)."""
    for module in model.modules():
        config = getattr(module, "config", None)
        if config is not None and hasattr(config, "output_hidden_states"):
            config.output_hidden_states = enabled
