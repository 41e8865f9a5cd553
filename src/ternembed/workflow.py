"""The top of the flow: one call to ternarize a model, one call to load any packed folder."""

from __future__ import annotations

import os

from torch import nn

from ternembed.config import TernaryConfig
from ternembed.io import load as load_text_model
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


def load(folder: str | os.PathLike, device: str = "cpu") -> nn.Module:
    """Load any packed ternembed folder: a text model as a ``TernarySentenceTransformer``, an image
    encoder (a folder with ``image_encoder.json``) as a :class:`ternembed.vision.ImageEncoder`.
    """
    from pathlib import Path

    from ternembed.vision.io import ENCODER_FILENAME, load_image_encoder

    if (Path(folder).expanduser() / ENCODER_FILENAME).is_file():
        return load_image_encoder(folder).to(device)
    return load_text_model(folder, device=device)
