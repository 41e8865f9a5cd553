"""Load the model to evaluate from a name or folder, and say what it can encode and how big it is."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ternembed.config import CONFIG_FILENAME
from ternembed.eval.tasks import Modality, ModalityError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def load_model(name_or_path: str | os.PathLike | None) -> Any:
    """A model ready to ``encode``: a packed folder, an image model, or a full-precision text model.

    ``None`` means the default model. Packed folders (``ternary_config.json``, text or image) load
    through :func:`ternembed.load`; image models (Hugging Face vision folders, ``efficientnet-lite0``)
    as image encoders; anything else as a full-precision SentenceTransformer (local folder, packaged
    model or hub id).
    """
    from ternembed.models import resolve_model
    from ternembed.vision.models import is_image_model, load_image_model

    if is_image_model(name_or_path):
        resolved = Path(name_or_path)
        if (resolved / CONFIG_FILENAME).is_file():
            import ternembed

            return ternembed.load(resolved)
        return load_image_model(name_or_path)
    resolved = Path(resolve_model(name_or_path))
    if (resolved / CONFIG_FILENAME).is_file():
        import ternembed

        return ternembed.load(resolved)
    from ternembed.models import load_sentence_transformer

    return load_sentence_transformer(name_or_path)


def model_modalities(model: Any) -> frozenset[str]:
    """What the model encodes: its ``modalities`` attribute (SentenceTransformer and ImageEncoder declare
    one), else ``text``."""
    return frozenset(getattr(model, "modalities", None) or {"text"})


def check_modality(model: Any, modality: Modality, task_name: str) -> None:
    """Raise :class:`ModalityError` when ``model`` cannot encode the ``modality`` a task needs."""
    supported = model_modalities(model)
    if modality not in supported:
        raise ModalityError(
            f"task {task_name!r} needs a model that encodes {modality}, but {type(model).__name__} encodes "
            f"{', '.join(sorted(supported))}; pick a {modality} model or a {'/'.join(sorted(supported))} task"
        )


def model_folder(name_or_path: str | os.PathLike | None) -> Path | None:
    """The local folder a model name resolves to, or None for a hub id not present here."""
    from ternembed.models import resolve_model

    folder = Path(resolve_model(name_or_path))
    return folder if folder.is_dir() else None


def weight_bytes(folder: str | os.PathLike) -> int:
    """Bytes of the weight files (``*.safetensors``, else ``*.bin``/``*.pt``) in a model folder, recursively.

    Exported copies (``onnx/``, ``openvino/``) and distillation state (``training/``) are not counted.
    """
    from ternembed.io.info import NOT_MODEL_WEIGHTS

    root = Path(folder)
    files = [
        path
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix in WEIGHT_SUFFIXES
        and not set(NOT_MODEL_WEIGHTS) & set(path.relative_to(root).parts)
    ]
    safetensors = [path for path in files if path.suffix == ".safetensors"]
    return sum(path.stat().st_size for path in (safetensors or files))
