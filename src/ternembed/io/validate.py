"""Checks run before a folder is loaded, each failing with a message that names file, expectation and fix."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from ternembed.config import CONFIG_FILENAME
from ternembed.data.jsonl import read_json_object
from ternembed.formats.base3 import MAX_BYTE as BASE3_MAX_BYTE
from ternembed.io.errors import (
    CorruptCheckpointError,
    ManifestMismatchError,
    ModelFolderNotFoundError,
    NotATernaryModelError,
    UnsupportedArchitectureError,
)
from ternembed.io.manifest import QUANT_METHOD, Manifest

WEIGHTS_FILENAME = "model.safetensors"
HF_CONFIG_FILENAME = "config.json"
MODULES_FILENAME = "modules.json"
PACKED_SUFFIXES = (".weight_packed", ".weight_int8", ".weight_int4", ".weight_fp16")

_SAFETENSORS_DTYPES = {
    "U8": torch.uint8,
    "I8": torch.int8,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F32": torch.float32,
    "F64": torch.float64,
    "I32": torch.int32,
    "I64": torch.int64,
    "BOOL": torch.bool,
}
_DTYPE_NAMES = {dtype: name for name, dtype in _SAFETENSORS_DTYPES.items()}


def check_folder(folder: str | os.PathLike) -> Path:
    """The folder as a Path, or an error saying why it is not a ternembed model folder."""
    root = Path(folder).expanduser()
    if not root.exists():
        raise ModelFolderNotFoundError(
            f"model folder {str(root)!r} does not exist; pass the folder written by `ternembed quantize --out`"
        )
    if not root.is_dir():
        raise NotATernaryModelError(
            f"{str(root)!r} is a file, not a model folder; pass the folder that holds it"
        )
    if not (root / CONFIG_FILENAME).is_file():
        if _has_ternembed_quantization_config(root / HF_CONFIG_FILENAME):
            raise NotATernaryModelError(
                f"{str(root)!r} holds packed ternembed weights but no {CONFIG_FILENAME}: it was written by a "
                "stock save (model.save / save_pretrained). SentenceTransformer(DIR) loads it after "
                "`import ternembed`; to get the verified format, load it that way and re-save with ternembed.save"
            )
        if (root / HF_CONFIG_FILENAME).is_file():
            raise NotATernaryModelError(
                f"{str(root)!r} has a {HF_CONFIG_FILENAME} but no {CONFIG_FILENAME}: it is a plain Hugging Face "
                f"or sentence-transformers model; ternarize it first with `ternembed quantize {root} --out DIR`"
            )
        raise NotATernaryModelError(
            f"{str(root)!r} is not a ternembed model folder: expected {CONFIG_FILENAME}, {HF_CONFIG_FILENAME} and "
            f"{WEIGHTS_FILENAME}, found {sorted(p.name for p in root.iterdir())[:8] or 'nothing'}"
        )
    for name in (HF_CONFIG_FILENAME, WEIGHTS_FILENAME):
        if not (root / name).is_file():
            raise NotATernaryModelError(
                f"{str(root)!r} has {CONFIG_FILENAME} but no {name}; the folder is incomplete, save it again "
                "with ternembed.save or `ternembed quantize`"
            )
    return root


def check_sentence_transformer_folder(root: Path) -> None:
    """The folder also holds the sentence-transformers module files that ``load`` assembles the model from."""
    if not (root / MODULES_FILENAME).is_file():
        raise NotATernaryModelError(
            f"{str(root)!r} holds a packed model but no {MODULES_FILENAME}, so it is not a sentence-transformers "
            "folder; image encoders saved by ternembed.vision load with ternembed.vision.io.load_image_encoder"
        )


def _has_ternembed_quantization_config(path: Path) -> bool:
    try:
        quantization = json.loads(path.read_text()).get("quantization_config")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(quantization, dict) and quantization.get("quant_method") == QUANT_METHOD


def read_json(path: Path) -> dict[str, Any]:
    return read_json_object(path, CorruptCheckpointError, "restore the file from the original model or re-save the model")


def read_manifest(root: Path) -> Manifest:
    path = check_folder(root) / CONFIG_FILENAME
    return Manifest.from_dict(read_json(path), source=str(path))


def weights_path(root: Path) -> Path:
    return check_folder(root) / WEIGHTS_FILENAME


def stored_tensor_specs(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """(safetensors dtype, shape) of every tensor in a file, reading only the header and checking its size."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            specs = {}
            for name in handle.keys():  # noqa: SIM118 - safe_open handles are not iterable
                tensor_slice = handle.get_slice(name)
                specs[name] = (tensor_slice.get_dtype(), tuple(tensor_slice.get_shape()))
    except (SafetensorError, OSError, ValueError) as error:
        raise CorruptCheckpointError(
            f"{path} cannot be read as safetensors ({error}); the file is truncated or corrupt: copy it again "
            "or re-save the model"
        ) from None
    return specs


def check_weights(path: Path, manifest: Manifest) -> None:
    """Every packed tensor the manifest lists is stored with its dtype and shape, and no unlisted one is."""
    stored = stored_tensor_specs(path)
    expected = manifest.packed_tensors()
    for name, (dtype, shape) in expected.items():
        if name not in stored:
            raise ManifestMismatchError(
                f"{CONFIG_FILENAME} lists tensor {name!r} but {path} does not hold it "
                f"({len(stored)} tensors stored); the files come from different saves: re-save the model"
            )
        stored_dtype, stored_shape = stored[name]
        if _SAFETENSORS_DTYPES.get(stored_dtype) != dtype or stored_shape != tuple(shape):
            raise ManifestMismatchError(
                f"{path}: tensor {name!r} is {stored_dtype} of shape {list(stored_shape)}, but {CONFIG_FILENAME} "
                f"expects {_DTYPE_NAMES[dtype]} of shape {list(shape)}; the files come from different saves: re-save the model"
            )
    unlisted = sorted(name for name in stored if name.endswith(PACKED_SUFFIXES) and name not in expected)
    if unlisted:
        raise ManifestMismatchError(
            f"{path} holds {len(unlisted)} packed tensors that {CONFIG_FILENAME} does not list "
            f"(first: {unlisted[0]!r}); the files come from different saves: re-save the model"
        )


def check_hf_config(root: Path, manifest: Manifest) -> dict[str, Any]:
    """config.json names an architecture transformers knows and carries the same manifest."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    path = root / HF_CONFIG_FILENAME
    hf_config = read_json(path)
    model_type = hf_config.get("model_type")
    if model_type not in CONFIG_MAPPING:
        raise UnsupportedArchitectureError(
            f"{path}: model_type {model_type!r} is not an architecture this transformers version knows; "
            "ternembed loads built-in Hugging Face encoders only (no trust_remote_code)"
        )
    quantization = hf_config.get("quantization_config")
    if not isinstance(quantization, dict) or quantization.get("quant_method") != QUANT_METHOD:
        raise ManifestMismatchError(
            f"{path} has no quantization_config with quant_method {QUANT_METHOD!r}; re-save the model "
            "with ternembed.save"
        )
    if Manifest.from_dict(quantization, source=f"{path} quantization_config") != manifest:
        raise ManifestMismatchError(
            f"{path} quantization_config and {CONFIG_FILENAME} list different layers or settings; "
            "the files come from different saves: re-save the model"
        )
    return hf_config


MAX_ABS_WEIGHT = float(torch.finfo(torch.float16).max)
"""Largest magnitude a stored float tensor of a text encoder may hold (65504, the float16 range).

Trained encoders stay far inside it (they run in half precision), ternary scales are rounded to
float16 when made, and values beyond it overflow float32 activations within a layer or two, so a
larger value means damaged bytes rather than a model."""


def check_tensor_values(
    tensors: dict[str, torch.Tensor], manifest: Manifest, path: Path, max_abs: float | None = MAX_ABS_WEIGHT
) -> None:
    """Every float tensor is finite (and within ``max_abs``) and every packed code field is valid.

    Raises CorruptCheckpointError naming the file, the tensor and the bad value: 2-bit fields hold
    ``code + 1`` in 0..2 (3 is invalid), base3 bytes are at most 242. Vectorized: one pass per tensor.
    """
    storages = {f"{entry.name}.weight_packed": entry.storage for entry in manifest.layers}
    for name, tensor in tensors.items():
        if name in storages:
            _check_packed_codes(name, tensor, storages[name], path)
        elif tensor.is_floating_point() and tensor.numel():
            _check_float_values(name, tensor, path, max_abs)


def _check_packed_codes(name: str, packed: torch.Tensor, storage: str, path: Path) -> None:
    if storage == "2bit":
        invalid = (packed & (packed >> 1) & 0b01010101) != 0  # a 2-bit field with both bits set is 0b11
        problem = "2-bit code fields of value 3 (valid: 0, 1, 2)"
    else:
        invalid = packed > BASE3_MAX_BYTE
        problem = f"base3 bytes above {BASE3_MAX_BYTE}"
    bad = int(invalid.sum())
    if bad:
        raise CorruptCheckpointError(
            f"{path}: tensor {name!r} holds {bad} bytes with {problem}; the file is corrupt: copy it again "
            "or re-save the model"
        )


def _check_float_values(name: str, tensor: torch.Tensor, path: Path, max_abs: float | None) -> None:
    finite = torch.isfinite(tensor)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise CorruptCheckpointError(
            f"{path}: tensor {name!r} holds {bad} NaN/inf values out of {tensor.numel()}; the file is corrupt "
            "or was saved from a diverged model: copy it again, or re-save it from a model with finite weights"
        )
    largest = float(tensor.abs().max())
    if max_abs is not None and largest > max_abs:
        raise CorruptCheckpointError(
            f"{path}: tensor {name!r} holds a value of magnitude {largest:.3g}, beyond the {max_abs:g} that "
            "encoder weights stay within; the file is corrupt: copy it again or re-save the model"
        )
