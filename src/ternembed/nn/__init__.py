"""Drop-in modules: train-time TernaryLinear, inference PackedTernaryLinear, QuantizedEmbedding."""

from ternembed.nn.packed_linear import PackedTernaryLinear
from ternembed.nn.quantized_embedding import QuantizedEmbedding
from ternembed.nn.ternary_linear import TernaryLinear

__all__ = ["PackedTernaryLinear", "QuantizedEmbedding", "TernaryLinear"]
