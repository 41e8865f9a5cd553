"""ternembed: ternary-weight embedding models that are small, fast on CPU and distilled to keep quality."""

from ternembed.config import TernaryConfig
from ternembed.quantize import freeze, prepare, ternary_layers

__version__ = "0.1.0"

__all__ = ["TernaryConfig", "__version__", "freeze", "prepare", "ternary_layers"]
