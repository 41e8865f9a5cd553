"""Drop-in modules: train-time TernaryLinear, inference PackedTernaryLinear, QuantizedEmbedding, fused encoders."""

from ternembed.nn.fused_encoder import enable_fused_encoder
from ternembed.nn.packed_linear import PackedTernaryLinear
from ternembed.nn.quantized_embedding import QuantizedEmbedding
from ternembed.nn.ternary_linear import TernaryLinear

__all__ = ["PackedTernaryLinear", "QuantizedEmbedding", "TernaryLinear", "enable_fused_encoder"]
