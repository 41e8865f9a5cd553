"""2 bits per weight: four codes per byte, row by row.

Row ``r`` of an ``[out, in]`` weight occupies ``ceil(in / 4)`` bytes; column ``4j + i`` sits in bits
``2i .. 2i+1`` of byte ``j`` as ``code + 1``. Rows are padded with code 0 to a multiple of 4, so a row
starts on a byte boundary and a kernel can stream rows directly.
"""

from __future__ import annotations

import torch

from ternembed.formats.base import TernaryFormat

CODES_PER_BYTE = 4


class TwoBitFormat(TernaryFormat):
    name = "2bit"
    codes_per_byte = CODES_PER_BYTE

    def packed_shape(self, shape: tuple[int, int]) -> tuple[int, ...]:
        out_features, in_features = shape
        return (out_features, -(-in_features // CODES_PER_BYTE))

    def pack(self, codes: torch.Tensor) -> torch.Tensor:
        self.check_codes(codes)
        out_features, in_features = codes.shape
        padded_width = self.packed_shape((out_features, in_features))[1] * CODES_PER_BYTE
        stored = torch.ones(out_features, padded_width, dtype=torch.uint8)
        stored[:, :in_features] = (codes + 1).to(torch.uint8)
        stored = stored.reshape(out_features, -1, CODES_PER_BYTE)
        packed = stored[..., 0] | (stored[..., 1] << 2) | (stored[..., 2] << 4) | (stored[..., 3] << 6)
        return packed.contiguous()

    def unpack(self, packed: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
        self.check_packed(packed, shape)
        out_features, in_features = shape
        shifts = torch.tensor([0, 2, 4, 6], dtype=torch.uint8)
        stored = (packed.unsqueeze(-1) >> shifts) & 3
        codes = stored.reshape(out_features, -1)[:, :in_features].to(torch.int8) - 1
        return codes.contiguous()
