"""Packed ternary layouts: exhaustive round trips, declared sizes and bit-exact byte layouts."""

from __future__ import annotations

import pytest
import torch

from ternembed.formats import FORMATS, Base3Format, PackedFormatError, TwoBitFormat, get_format

SHAPES = [
    (1, 1),
    (1, 7),
    (7, 1),
    (1, 4),
    (4, 1),
    (3, 5),
    (5, 3),
    (4, 4),
    (5, 5),
    (6, 9),
    (13, 17),
    (2, 1023),
    (33, 384),
]


def random_codes(shape: tuple[int, int], seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(-1, 2, shape, generator=generator, dtype=torch.int8)


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("shape", SHAPES)
def test_random_codes_round_trip(name, shape):
    fmt = get_format(name)
    codes = random_codes(shape, seed=shape[0] * 1000 + shape[1])
    packed = fmt.pack(codes)
    assert packed.dtype == torch.uint8
    assert tuple(packed.shape) == fmt.packed_shape(shape)
    assert torch.equal(fmt.unpack(packed, shape), codes)


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("value", [-1, 0, 1])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (8, 20)])
def test_constant_codes_round_trip(name, value, shape):
    fmt = get_format(name)
    codes = torch.full(shape, value, dtype=torch.int8)
    assert torch.equal(fmt.unpack(fmt.pack(codes), shape), codes)


def test_every_base3_byte_value_round_trips():
    fmt = Base3Format()
    codes = torch.tensor(
        [
            [a, b, c, d, e]
            for a in (-1, 0, 1)
            for b in (-1, 0, 1)
            for c in (-1, 0, 1)
            for d in (-1, 0, 1)
            for e in (-1, 0, 1)
        ],
        dtype=torch.int8,
    )
    packed = fmt.pack(codes)
    assert sorted(packed.tolist()) == list(range(243))
    assert torch.equal(fmt.unpack(packed, tuple(codes.shape)), codes)


def test_every_two_bit_byte_value_round_trips():
    fmt = TwoBitFormat()
    codes = torch.tensor(
        [[a, b, c, d] for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1) for d in (-1, 0, 1)],
        dtype=torch.int8,
    )
    assert torch.equal(fmt.unpack(fmt.pack(codes), tuple(codes.shape)), codes)


def test_two_bit_layout_is_bit_exact():
    codes = torch.tensor([[-1, 0, 1, 1, 0], [1, 1, -1, -1, -1]], dtype=torch.int8)
    packed = TwoBitFormat().pack(codes)
    # stored code+1, column 4j+i in bits 2i..2i+1 of byte j, rows padded with code 0 (stored 1)
    assert packed.tolist() == [
        [0 | 1 << 2 | 2 << 4 | 2 << 6, 1 | 1 << 2 | 1 << 4 | 1 << 6],
        [2 | 2 << 2 | 0 << 4 | 0 << 6, 0 | 1 << 2 | 1 << 4 | 1 << 6],
    ]


def test_base3_layout_is_bit_exact():
    codes = torch.tensor([[-1, 0, 1], [1, 0, 1]], dtype=torch.int8)
    packed = Base3Format().pack(codes)
    # flattened row-major digits (code+1): 0 1 2 2 1 | 2 then padding digit 1
    assert packed.tolist() == [0 + 1 * 3 + 2 * 9 + 2 * 27 + 1 * 81, 2 + 1 * 3 + 1 * 9 + 1 * 27 + 1 * 81]


def test_declared_sizes():
    assert TwoBitFormat().bits_per_weight == 2.0
    assert Base3Format().bits_per_weight == 1.6
    assert TwoBitFormat().packed_shape((384, 1536)) == (384, 384)
    assert TwoBitFormat().packed_shape((3, 5)) == (3, 2)
    assert Base3Format().packed_shape((384, 384)) == (384 * 384 // 5 + 1,)
    assert Base3Format().packed_shape((2, 5)) == (2,)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_codes_out_of_range_are_rejected(name):
    with pytest.raises(PackedFormatError, match="must lie in"):
        get_format(name).pack(torch.tensor([[0, 2]], dtype=torch.int8))


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_codes_must_be_two_dimensional(name):
    with pytest.raises(PackedFormatError, match="2-D"):
        get_format(name).pack(torch.zeros(4, dtype=torch.int8))


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_packed_tensor_of_wrong_shape_or_dtype_is_rejected(name):
    fmt = get_format(name)
    packed = fmt.pack(random_codes((4, 10)))
    with pytest.raises(PackedFormatError, match="must be uint8 of shape"):
        fmt.unpack(packed, (4, 13))
    with pytest.raises(PackedFormatError, match="must be uint8"):
        fmt.unpack(packed.to(torch.int16), (4, 10))


def test_base3_byte_above_242_is_corrupt():
    with pytest.raises(PackedFormatError, match="corrupt"):
        Base3Format().unpack(torch.tensor([243], dtype=torch.uint8), (1, 5))


def test_unknown_format_name():
    with pytest.raises(PackedFormatError, match="known formats"):
        get_format("3bit")
