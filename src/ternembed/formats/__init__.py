"""Packed ternary layouts, looked up by name."""

from ternembed.formats.base import PackedFormatError, TernaryFormat
from ternembed.formats.base3 import Base3Format
from ternembed.formats.two_bit import TwoBitFormat

FORMATS: dict[str, TernaryFormat] = {fmt.name: fmt for fmt in (TwoBitFormat(), Base3Format())}


def get_format(name: str) -> TernaryFormat:
    """The packed layout registered under ``name``."""
    try:
        return FORMATS[name]
    except KeyError:
        raise PackedFormatError(f"unknown packed format {name!r}; known formats: {sorted(FORMATS)}") from None


__all__ = ["FORMATS", "Base3Format", "PackedFormatError", "TernaryFormat", "TwoBitFormat", "get_format"]
