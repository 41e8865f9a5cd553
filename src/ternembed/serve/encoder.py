"""Tokenizing texts and embedding token sequences with one sentence-transformers model.

Requests are tokenized in the request handlers (without special tokens, so truncation keeps them) and the
batching worker embeds merged, padded sequences in one forward pass. The result equals
``model.encode(texts, normalize_embeddings=True)`` of the same inputs: the same special tokens, the same
right truncation at the model's ``max_seq_length``, the attention mask hiding the padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from ternembed.errors import InvalidArgumentError
from ternembed.serve.errors import ApiError

TruncationDirection = Literal["right", "left"]
_PROBE = "hello"


class TextEncoder:
    """The tokenizer and forward pass of a SentenceTransformer, on plain lists of token ids."""

    def __init__(self, model) -> None:
        self.model = model
        self.tokenizer = model.tokenizer
        if self.tokenizer is None:
            raise InvalidArgumentError("this model has no tokenizer; the server embeds texts and token ids only")
        self.max_tokens = int(model.max_seq_length or self.tokenizer.model_max_length)
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(dimension())
        self.vocab_size = len(self.tokenizer)
        self.prompts = {name: text for name, text in (model.prompts or {}).items() if text is not None}
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self.prefix, self.suffix = _special_tokens(self.tokenizer)
        self.content_limit = self.max_tokens - len(self.prefix) - len(self.suffix)
        self._with_token_types = "token_type_ids" in self.tokenizer.model_input_names

    def tokenize(self, texts: Sequence[str], prompt_name: str | None = None) -> list[list[int]]:
        """Token ids of each text (after the named prompt), without special tokens or truncation."""
        prompt = ""
        if prompt_name is not None:
            if prompt_name not in self.prompts:
                known = ", ".join(repr(name) for name in self.prompts) or "none"
                raise ApiError(
                    422,
                    f"unknown prompt_name {prompt_name!r}; this model's prompts are {known}",
                    param="prompt_name",
                )
            prompt = self.prompts[prompt_name]
        encoded = self.tokenizer(
            [prompt + text for text in texts], add_special_tokens=False, truncation=False, verbose=False
        )
        return [list(ids) for ids in encoded["input_ids"]]

    def check_token_ids(self, sequences: Sequence[Sequence[int]]) -> None:
        """ApiError 400 for an id outside the vocabulary."""
        for sequence in sequences:
            for token in sequence:
                if not 0 <= token < self.vocab_size:
                    raise ApiError(
                        400,
                        f"token id {token} is outside this model's vocabulary of {self.vocab_size} ids",
                        param="input",
                    )

    def sequence(
        self, content: list[int], truncate: bool = True, direction: TruncationDirection = "right"
    ) -> list[int]:
        """``content`` cut to the model's length if ``truncate`` (else ApiError 413), framed by special tokens."""
        if len(content) > self.content_limit:
            if not truncate:
                raise ApiError(
                    413,
                    f"an input has {len(content) + len(self.prefix) + len(self.suffix)} tokens but the model "
                    f"takes at most {self.max_tokens}; shorten it or send truncate: true",
                    param="input",
                )
            content = (
                content[: self.content_limit] if direction == "right" else content[-self.content_limit :]
            )
        return self.prefix + content + self.suffix

    def embed(self, sequences: Sequence[list[int]]) -> np.ndarray:
        """float32 ``[n, d]`` sentence embeddings of token sequences, padded to the longest one."""
        length = max(len(sequence) for sequence in sequences)
        input_ids = torch.full((len(sequences), length), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(sequences), length), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            input_ids[row, : len(sequence)] = torch.tensor(sequence, dtype=torch.long)
            attention_mask[row, : len(sequence)] = 1
        features = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self._with_token_types:
            features["token_type_ids"] = torch.zeros_like(input_ids)
        with torch.inference_mode():
            output = self.model(features)
        return output["sentence_embedding"].float().cpu().numpy()


def _special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The special token ids the tokenizer puts before and after a text's own tokens."""
    plain = tokenizer(_PROBE, add_special_tokens=False)["input_ids"]
    framed = tokenizer(_PROBE, add_special_tokens=True)["input_ids"]
    for start in range(len(framed) - len(plain) + 1):
        if framed[start : start + len(plain)] == plain:
            return list(framed[:start]), list(framed[start + len(plain) :])
    raise InvalidArgumentError("cannot tell this tokenizer's special tokens apart from a text's tokens")


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
