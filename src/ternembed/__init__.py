"""ternembed: ternary-weight embedding models that are small, fast on CPU and distilled to keep quality.

Importing the package registers the ``ternembed`` quantization method with transformers, so
``AutoModel.from_pretrained`` and ``SentenceTransformer`` can read folders written by :func:`save`.
"""

from ternembed.config import TernaryConfig
from ternembed.distill import DistillArguments, distill
from ternembed.errors import TernembedError
from ternembed.io import TernarySentenceTransformer, register_with_transformers, save
from ternembed.quantize import freeze, prepare, set_activations, ternary_layers
from ternembed.workflow import load, ternarize_model

__version__ = "0.1.0"

register_with_transformers()

__all__ = [
    "DistillArguments",
    "TernaryConfig",
    "TernarySentenceTransformer",
    "TernembedError",
    "__version__",
    "distill",
    "freeze",
    "load",
    "prepare",
    "save",
    "set_activations",
    "ternarize_model",
    "ternary_layers",
]
