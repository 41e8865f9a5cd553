"""The top of the flow: one call to ternarize a model, one call to load any packed folder."""

from __future__ import annotations

import os

from torch import nn

from ternembed.config import ACTIVATION_MODES, ConfigError, TernaryConfig
from ternembed.io import load as load_text_model
from ternembed.models import load_sentence_transformer
from ternembed.quantize import freeze, prepare, set_activations

ACTIVATIONS_ENV = "TERNEMBED_ACTIVATIONS"
"""Set to ``float`` or ``int8`` to choose the activation mode of every packed model that
:func:`load` reads without an explicit ``activations=`` (the CLI's ``--activations`` sets it)."""
FAST_ACTIVATIONS = "int8"
"""The faster mode of the CPU kernels (per-token int8 activations, W1.58A8), used by default."""


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


def requested_activations(activations: str | None = None) -> str | None:
    """The mode asked for: ``activations`` if given, else ``$TERNEMBED_ACTIVATIONS``, else None.

    Raises:
        ConfigError: either names a mode other than ``float`` or ``int8``.
    """
    if activations is not None:
        if activations not in ACTIVATION_MODES:
            raise ConfigError(f"activations must be one of {list(ACTIVATION_MODES)}, got {activations!r}")
        return activations
    from_env = os.environ.get(ACTIVATIONS_ENV, "").strip()
    if not from_env:
        return None
    if from_env not in ACTIVATION_MODES:
        raise ConfigError(f"{ACTIVATIONS_ENV}={from_env!r} is not one of {list(ACTIVATION_MODES)}")
    return from_env


def fast_kernels_run(device: str = "cpu") -> bool:
    """Whether the compiled CPU kernels (where int8 activations are the fast mode) run on ``device``."""
    from ternembed.kernels import selected_kernel

    return str(device).split(":")[0] == "cpu" and selected_kernel() != "reference"


def runtime_activations(activations: str | None, trained: str, device: str = "cpu") -> str:
    """The mode a packed text model trained with ``trained`` activations runs in.

    ``activations`` or ``$TERNEMBED_ACTIVATIONS`` when set; otherwise int8, the faster mode, where
    the compiled kernels run (on CPU), and the trained mode where they do not (the reference kernel
    is no faster in int8).
    """
    requested = requested_activations(activations)
    if requested is not None:
        return requested
    return FAST_ACTIVATIONS if fast_kernels_run(device) else trained


def load(folder: str | os.PathLike, device: str = "cpu", activations: str | None = None) -> nn.Module:
    """Load any packed ternembed folder: a text model as a ``TernarySentenceTransformer``, an image
    encoder (a folder with ``image_encoder.json``) as a :class:`ternembed.vision.ImageEncoder`.

    Args:
        folder: a folder written by :func:`ternembed.save` (or ``ternembed quantize``/``distill``).
        device: where the model runs; the fast kernels run on ``cpu``.
        activations: ``"float"`` (exact) or ``"int8"`` (per-token, about twice as fast in the CPU
            kernels). ``None``: ``$TERNEMBED_ACTIVATIONS`` if set, else int8 for a text model where
            the compiled kernels run (see :func:`runtime_activations`); an image encoder keeps the
            mode it was saved with. Only the loaded model changes: the folder keeps its trained mode.
    """
    from pathlib import Path

    from ternembed.nn import PackedTernaryLinear
    from ternembed.vision.io import ENCODER_FILENAME, load_image_encoder

    if (Path(folder).expanduser() / ENCODER_FILENAME).is_file():
        encoder = load_image_encoder(folder).to(device)
        requested = requested_activations(activations)
        if requested is not None and any(isinstance(m, PackedTernaryLinear) for m in encoder.modules()):
            set_activations(encoder, requested)
        return encoder
    mode = requested_activations(activations)  # a bad value fails before the folder is read
    model = load_text_model(folder, device=device)
    trained = model_activations(model)
    mode = runtime_activations(mode, trained, device)
    return set_activations(model, mode) if mode != trained else model


def model_activations(model: nn.Module) -> str:
    """The one activation mode all of a model's packed ternary layers run (ConfigError if none or mixed)."""
    from ternembed.nn import PackedTernaryLinear

    modes = {m.activations for m in model.modules() if isinstance(m, PackedTernaryLinear)}
    if len(modes) != 1:
        raise ConfigError(
            f"the model's packed ternary layers run {sorted(modes) or 'no'} activation modes, not one"
        )
    return modes.pop()
