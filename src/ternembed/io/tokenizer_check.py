"""A text model's tokenizer must exist and fit its embedding table.

Without tokenizer files in a folder, transformers still builds a tokenizer from
``tokenizer_config.json`` or the model type: one that knows only its five special tokens and reads
every word as ``[UNK]``, so every text gets nearly the same embedding. That is refused here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from torch import nn

from ternembed.errors import TernembedError

TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "sentencepiece.bpe.model",
    "spiece.model",
    "tokenizer.model",
)
"""Files that hold a vocabulary (fast tokenizers, WordPiece, BPE, SentencePiece)."""
MIN_TOKENIZER_VOCAB = 100
"""Fewer tokens than this is a tokenizer of special tokens only, not a vocabulary."""


class TokenizerMismatchError(TernembedError, ValueError):
    """A text model's tokenizer is missing, nearly empty, or larger than its embedding table."""


def check_tokenizer(model: Any, folder: str | os.PathLike) -> None:
    """Raise TokenizerMismatchError unless the loaded ``model``'s tokenizer fits its vocabulary.

    Models without a tokenizer (image encoders) pass. ``folder`` is where the model was loaded from.
    """
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None or not hasattr(tokenizer, "__len__"):
        return
    size = len(tokenizer)
    rows = _embedding_rows(model)
    root = Path(folder)
    if size < MIN_TOKENIZER_VOCAB:
        found = sorted(name for name in TOKENIZER_FILES if any(root.rglob(name)))
        raise TokenizerMismatchError(
            f"{str(root)!r}: the tokenizer knows only {size} tokens"
            + (f" for a vocabulary of {rows}" if rows else "")
            + f", so every word would read as unknown; the folder lacks the tokenizer files (one of "
            f"{', '.join(TOKENIZER_FILES)}; found {', '.join(found) or 'none'}): copy them from the base model"
        )
    if rows is not None and size > rows:
        raise TokenizerMismatchError(
            f"{str(root)!r}: the tokenizer has {size} tokens but the model's embedding table only {rows} rows, "
            "so some token ids have no embedding; the tokenizer files come from another model: copy the "
            "base model's tokenizer files into the folder"
        )


def _embedding_rows(model: Any) -> int | None:
    first = model[0] if isinstance(model, nn.Sequential) and len(model) else None
    hf_model = getattr(first, "auto_model", None)
    get_embeddings = getattr(hf_model, "get_input_embeddings", None)
    embeddings = get_embeddings() if callable(get_embeddings) else None
    return getattr(embeddings, "num_embeddings", None)
