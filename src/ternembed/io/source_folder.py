"""Checks of a local model folder's files before sentence-transformers or transformers reads them.

Those libraries report a damaged JSON file without its name and a truncated weight file as a
traceback deep inside their loaders; here each becomes a CorruptCheckpointError naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from ternembed.io.errors import CorruptCheckpointError
from ternembed.io.module_files import check_module_files
from ternembed.io.validate import stored_tensor_specs

WEIGHT_FILE_PATTERN = "*.safetensors"
SKIPPED_FOLDERS = ("onnx", "openvino", "training")
"""Subfolders whose files a model load never reads (exported copies, training state)."""


def check_json_files(folder: Path) -> None:
    """Every ``*.json`` file of the folder and of its module subfolders parses."""
    for path in _model_files(folder, "*.json"):
        try:
            json.loads(path.read_bytes())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CorruptCheckpointError(
                f"{path} is not valid JSON ({error}); restore the file from the original model or re-save the model"
            ) from None


def check_weight_files(folder: Path) -> None:
    """Every safetensors file of the folder has a readable header that covers the whole file."""
    for path in _model_files(folder, WEIGHT_FILE_PATTERN):
        stored_tensor_specs(path)


def check_source_folder(folder: Path) -> None:
    """JSON and safetensors files of a local full-precision model folder are intact."""
    check_json_files(folder)
    check_module_files(folder)
    check_weight_files(folder)


def _model_files(folder: Path, pattern: str) -> list[Path]:
    files = [*folder.glob(pattern)]
    for sub in sorted(folder.iterdir()):
        if sub.is_dir() and sub.name not in SKIPPED_FOLDERS and not sub.name.startswith("."):
            files += sub.glob(pattern)
    return sorted(path for path in files if path.is_file())
