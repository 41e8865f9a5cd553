"""Save and load packed ternary folders, their model card and summary, and the transformers glue."""

from ternembed.io.errors import (
    CorruptCheckpointError,
    FolderNotEmptyError,
    ManifestMismatchError,
    ModelFolderNotFoundError,
    NotATernaryModelError,
    UnsupportedArchitectureError,
)
from ternembed.io.hf_quantizer import register_with_transformers
from ternembed.io.info import ModelInfo, inspect_folder
from ternembed.io.load import load
from ternembed.io.save import save
from ternembed.io.sentence_transformer import TernarySentenceTransformer

__all__ = [
    "CorruptCheckpointError",
    "FolderNotEmptyError",
    "ManifestMismatchError",
    "ModelFolderNotFoundError",
    "ModelInfo",
    "NotATernaryModelError",
    "TernarySentenceTransformer",
    "UnsupportedArchitectureError",
    "inspect_folder",
    "load",
    "register_with_transformers",
    "save",
]
