"""1.6 bits per weight: five codes per byte in base 3.

The whole ``[out, in]`` weight is flattened row-major and cut into runs of five codes; a run
``d0..d4`` (each ``code + 1`` in 0..2) is stored as the byte ``d0 + 3 d1 + 9 d2 + 27 d3 + 81 d4``
(at most 242). The tail is padded with code 0. This is a storage layout: kernels unpack it once
at load time.
"""

from __future__ import annotations

import torch

from ternembed.formats.base import PackedFormatError, TernaryFormat

CODES_PER_BYTE = 5
MAX_BYTE = 3**CODES_PER_BYTE - 1
_POWERS = torch.tensor([1, 3, 9, 27, 81], dtype=torch.int32)


class Base3Format(TernaryFormat):
    name = "base3"
    codes_per_byte = CODES_PER_BYTE

    def packed_shape(self, shape: tuple[int, int]) -> tuple[int, ...]:
        return (-(-(shape[0] * shape[1]) // CODES_PER_BYTE),)

    def pack(self, codes: torch.Tensor) -> torch.Tensor:
        self.check_codes(codes)
        flat = codes.reshape(-1).to(torch.int32) + 1
        padded_length = self.packed_shape(tuple(codes.shape))[0] * CODES_PER_BYTE
        digits = torch.ones(padded_length, dtype=torch.int32)
        digits[: flat.numel()] = flat
        packed = (digits.reshape(-1, CODES_PER_BYTE) * _POWERS).sum(-1)
        return packed.to(torch.uint8).contiguous()

    def unpack(self, packed: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
        self.check_packed(packed, shape)
        values = packed.to(torch.int32)
        if values.numel() and int(values.max()) > MAX_BYTE:
            raise PackedFormatError(
                f"base3 bytes must be at most {MAX_BYTE}, found {int(values.max())}: the data is corrupt"
            )
        digits = (values.unsqueeze(-1) // _POWERS) % 3
        codes = digits.reshape(-1)[: shape[0] * shape[1]].to(torch.int8) - 1
        return codes.reshape(shape).contiguous()
