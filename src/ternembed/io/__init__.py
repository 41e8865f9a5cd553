"""Save and load packed ternary folders, their model card and summary, and the transformers glue.

The names below are imported on first use, so importing one light module of ``ternembed.io`` (an
error class, the output-folder rules) does not load transformers.
"""

from __future__ import annotations

from ternembed.lazy import lazy_exports

_EXPORTS = {
    "CorruptCheckpointError": "ternembed.io.errors",
    "FolderNotEmptyError": "ternembed.io.errors",
    "ManifestMismatchError": "ternembed.io.errors",
    "ModelFolderNotFoundError": "ternembed.io.errors",
    "NotATernaryModelError": "ternembed.io.errors",
    "UnsupportedArchitectureError": "ternembed.io.errors",
    "register_with_transformers": "ternembed.io.hf_quantizer",
    "ModelInfo": "ternembed.io.info",
    "inspect_folder": "ternembed.io.info",
    "load": "ternembed.io.load",
    "save": "ternembed.io.save",
    "TernarySentenceTransformer": "ternembed.io.sentence_transformer",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
