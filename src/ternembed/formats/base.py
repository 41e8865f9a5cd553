"""The interface every packed ternary layout implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch

from ternembed.errors import TernembedError


class PackedFormatError(TernembedError, ValueError):
    """Packed data does not fit the shape it claims to hold."""


class TernaryFormat(ABC):
    """A way to store ternary codes {-1, 0, +1} in bytes.

    Subclasses declare how many codes share a byte and implement ``pack`` / ``unpack``.
    Codes are stored offset by one (0, 1, 2), so a zero byte never means "all zero codes".
    """

    name: str
    codes_per_byte: int

    @property
    def bits_per_weight(self) -> float:
        return 8.0 / self.codes_per_byte

    @abstractmethod
    def packed_shape(self, shape: tuple[int, int]) -> tuple[int, ...]:
        """Shape of the uint8 tensor that holds codes of ``shape``."""

    @abstractmethod
    def pack(self, codes: torch.Tensor) -> torch.Tensor:
        """int8 codes ``[out, in]`` in {-1, 0, 1} -> uint8 tensor of :meth:`packed_shape`."""

    @abstractmethod
    def unpack(self, packed: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
        """uint8 tensor -> int8 codes ``shape`` in {-1, 0, 1}."""

    def check_packed(self, packed: torch.Tensor, shape: tuple[int, int]) -> None:
        expected = self.packed_shape(shape)
        if packed.dtype != torch.uint8 or tuple(packed.shape) != expected:
            raise PackedFormatError(
                f"{self.name} codes for a {shape[0]}x{shape[1]} weight must be uint8 of shape {expected}, "
                f"got {packed.dtype} of shape {tuple(packed.shape)}"
            )

    @staticmethod
    def check_codes(codes: torch.Tensor) -> None:
        if codes.dim() != 2:
            raise PackedFormatError(f"codes must be 2-D [out, in], got shape {tuple(codes.shape)}")
        if codes.numel() and (codes.min() < -1 or codes.max() > 1):
            raise PackedFormatError(
                f"codes must lie in {{-1, 0, 1}}, found values from {int(codes.min())} to {int(codes.max())}"
            )
