"""Embedding tables stored at fp16, int8 per row, or int4 per group of columns.

In small encoders the token table dominates the file (all-MiniLM-L6-v2: 11.7M of 22.7M parameters),
so it is compressed too. Rows are gathered first and dequantized after, so a lookup never expands the
whole table.
"""

from __future__ import annotations

import torch
from torch import nn

from ternembed.errors import InvalidArgumentError

INT4_GROUP_SIZE = 32
INT4_MAX = 7.0
INT8_MAX = 127.0


def quantize_rows_int8(table: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 per row: (int8 ``[n, d]``, fp16 scale ``[n, 1]``)."""
    scale = (table.abs().amax(dim=1, keepdim=True) / INT8_MAX).clamp(min=1e-8).half()
    values = torch.clamp(torch.round(table / scale.float()), -INT8_MAX, INT8_MAX).to(torch.int8)
    return values, scale


def quantize_groups_int4(table: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int4 per group of columns, two values per byte (low nibble first).

    Returns (uint8 ``[n, ceil(d/2)]`` holding ``value + 8``, fp16 scale ``[n, ceil(d/32)]``).
    """
    rows, dim = table.shape
    groups = -(-dim // INT4_GROUP_SIZE)
    padded = nn.functional.pad(table, (0, groups * INT4_GROUP_SIZE - dim)).reshape(rows, groups, -1)
    scale = (padded.abs().amax(dim=-1) / INT4_MAX).clamp(min=1e-8).half()
    values = torch.clamp(torch.round(padded / scale.float().unsqueeze(-1)), -INT4_MAX, INT4_MAX)
    values = (values.reshape(rows, -1)[:, : dim + dim % 2] + 8).to(torch.uint8)
    if dim % 2:
        values[:, -1] = 8
    return (values[:, 0::2] | (values[:, 1::2] << 4)).contiguous(), scale


def dequantize_int4(packed: torch.Tensor, scale: torch.Tensor, dim: int) -> torch.Tensor:
    """Float rows from :func:`quantize_groups_int4` output (works on any leading shape)."""
    low = (packed & 15).to(torch.int8) - 8
    high = (packed >> 4).to(torch.int8) - 8
    values = torch.stack((low, high), dim=-1).flatten(-2)[..., :dim].float()
    return values * scale.float().repeat_interleave(INT4_GROUP_SIZE, dim=-1)[..., :dim]


class QuantizedEmbedding(nn.Module):
    """Drop-in for ``nn.Embedding`` (no max_norm or sparse gradients) with a compressed table."""

    def __init__(
        self, num_embeddings: int, embedding_dim: int, precision: str, padding_idx: int | None = None
    ):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.precision = precision
        self.padding_idx = padding_idx
        if precision == "fp16":
            self.register_buffer(
                "weight_fp16", torch.zeros(num_embeddings, embedding_dim, dtype=torch.float16)
            )
        elif precision == "int8":
            self.register_buffer("weight_int8", torch.zeros(num_embeddings, embedding_dim, dtype=torch.int8))
            self.register_buffer("weight_scale", torch.zeros(num_embeddings, 1, dtype=torch.float16))
        elif precision == "int4":
            groups = -(-embedding_dim // INT4_GROUP_SIZE)
            self.register_buffer(
                "weight_int4", torch.zeros(num_embeddings, -(-embedding_dim // 2), dtype=torch.uint8)
            )
            self.register_buffer("weight_scale", torch.zeros(num_embeddings, groups, dtype=torch.float16))
        else:
            raise InvalidArgumentError(f"embedding precision must be 'fp16', 'int8' or 'int4', got {precision!r}")

    @classmethod
    def from_embedding(cls, embedding: nn.Embedding, precision: str) -> QuantizedEmbedding:
        table = embedding.weight.detach().float()
        module = cls(embedding.num_embeddings, embedding.embedding_dim, precision, embedding.padding_idx)
        if precision == "fp16":
            module.weight_fp16 = table.half()
        elif precision == "int8":
            module.weight_int8, module.weight_scale = quantize_rows_int8(table)
        else:
            module.weight_int4, module.weight_scale = quantize_groups_int4(table)
        return module

    @property
    def weight(self) -> torch.Tensor:
        """The whole dequantized table (for code that reads ``embedding.weight``; expands memory)."""
        return self.forward(torch.arange(self.num_embeddings))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if self.precision == "fp16":
            return self.weight_fp16[ids].float()
        if self.precision == "int8":
            flat = ids.reshape(-1)
            values = self.weight_int8.index_select(0, flat).float()
            return values.mul_(self.weight_scale.index_select(0, flat)).reshape(
                *ids.shape, self.embedding_dim
            )
        return dequantize_int4(self.weight_int4[ids], self.weight_scale[ids], self.embedding_dim)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, precision={self.precision}"
