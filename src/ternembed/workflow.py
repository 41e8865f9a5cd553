"""One call from a full-precision model name to a frozen ternary SentenceTransformer."""

from __future__ import annotations

import os

from torch import nn

from ternembed.config import TernaryConfig
from ternembed.models import load_sentence_transformer
from ternembed.quantize import freeze, prepare


def ternarize_model(
    model_name_or_path: str | os.PathLike | None = None, config: TernaryConfig | None = None
) -> nn.Module:
    """Load a full-precision SentenceTransformer, ternarize it per ``config`` and pack it for inference.

    This is the no-training path (no distillation): the result is ready for :func:`ternembed.save`.
    ``None`` means the default model, all-MiniLM-L6-v2.
    """
    config = config or TernaryConfig()
    model = load_sentence_transformer(model_name_or_path)
    prepare(model, config)
    return freeze(model, config)
