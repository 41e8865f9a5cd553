"""What a saved ternembed folder holds: ternary layers, bits per weight, sparsity, sizes."""

from __future__ import annotations

import functools
import json
import os
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from ternembed.formats import Base3Format, get_format
from ternembed.formats.base3 import MAX_BYTE as BASE3_MAX_BYTE
from ternembed.io.manifest import Manifest
from ternembed.io.validate import check_weights, read_manifest, weights_path

FP32_BYTES = 4
TRAINING_STATE_FOLDER = "training"
"""Subfolder of a distilled model's folder holding training state (``distill --keep-latent``)."""
NOT_MODEL_WEIGHTS = ("onnx", "openvino", TRAINING_STATE_FOLDER)
"""Subfolders of a model folder whose files are not its weights: exported copies and training state."""
SAFETENSORS_ALIGNMENT = 8


@dataclass
class LayerInfo:
    """One packed linear layer as stored."""

    name: str
    shape: list[int]
    storage: str
    group_size: int | None
    scale_shape: list[int]
    zero_fraction: float


@dataclass
class ModelInfo:
    """Summary of a packed model folder (``ternembed info``); ``scale_median`` is the lower median."""

    path: str
    base_model: str | None
    linear_weights: int
    linear_bits_per_weight: float
    scale_bits_per_weight: float
    zero_fraction: float
    scale_min: float
    scale_median: float
    scale_max: float
    embedding_precision: str
    embeddings: list[str]
    weights_bytes: int
    fp32_weights_bytes: int
    ratio: float
    ternary_config: dict[str, Any]
    layers: list[LayerInfo]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def inspect_folder(folder: str | os.PathLike) -> ModelInfo:
    """Read a saved folder's manifest and weights and summarise them (no model is built)."""
    root = Path(folder)
    manifest = read_manifest(root)
    weights_file = weights_path(root)
    check_weights(weights_file, manifest)
    layers: list[LayerInfo] = []
    code_bytes = zeros = weights = scale_bytes = 0
    scales: list[torch.Tensor] = []
    with safe_open(str(weights_file), framework="pt") as handle:
        stored_shapes = {name: list(handle.get_slice(name).get_shape()) for name in handle.keys()}  # noqa: SIM118
        for entry in manifest.layers:
            packed = handle.get_tensor(f"{entry.name}.weight_packed")
            scale = handle.get_tensor(f"{entry.name}.weight_scale")
            layer_weights = entry.shape[0] * entry.shape[1]
            layer_zeros = count_zero_codes(packed, entry.storage, layer_weights)
            layers.append(
                LayerInfo(
                    entry.name,
                    list(entry.shape),
                    entry.storage,
                    entry.group_size,
                    list(entry.scale_shape),
                    layer_zeros / layer_weights,
                )
            )
            code_bytes += packed.numel() * packed.element_size()
            scale_bytes += scale.numel() * scale.element_size()
            zeros += layer_zeros
            weights += layer_weights
            scales.append(scale.flatten())
    all_scales = torch.cat(scales)
    weights_bytes = sum(
        path.stat().st_size
        for path in root.rglob("*.safetensors")
        if not set(NOT_MODEL_WEIGHTS) & set(path.relative_to(root).parts)
    )
    fp32_bytes = fp32_safetensors_size(_float_shapes(manifest, stored_shapes))
    return ModelInfo(
        path=str(root),
        base_model=manifest.base_model,
        ternary_config=manifest.config.to_dict(),
        layers=layers,
        linear_weights=weights,
        linear_bits_per_weight=code_bytes * 8 / weights,
        scale_bits_per_weight=scale_bytes * 8 / weights,
        zero_fraction=zeros / weights,
        scale_min=float(all_scales.min()),
        scale_median=float(all_scales.median()),
        scale_max=float(all_scales.max()),
        embedding_precision=manifest.embeddings[0].precision if manifest.embeddings else "fp32",
        embeddings=[entry.name for entry in manifest.embeddings],
        weights_bytes=weights_bytes,
        fp32_weights_bytes=fp32_bytes,
        ratio=weights_bytes / fp32_bytes,
    )


@functools.cache
def _zeros_per_byte(storage: str) -> torch.Tensor:
    """How many zero codes each byte value holds in a packed layout (invalid bytes count none)."""
    fmt = get_format(storage)
    valid = BASE3_MAX_BYTE + 1 if storage == Base3Format.name else 256
    byte_values = torch.arange(valid, dtype=torch.uint8)
    codes = fmt.unpack(
        byte_values.reshape(fmt.packed_shape((valid, fmt.codes_per_byte))), (valid, fmt.codes_per_byte)
    )
    table = torch.zeros(256, dtype=torch.int64)
    table[:valid] = (codes == 0).sum(dim=1)
    return table


def count_zero_codes(packed: torch.Tensor, storage: str, weights: int) -> int:
    """Zero codes among the ``weights`` real codes of a packed tensor, without unpacking it.

    Padding is stored as code 0, so the padded slots (bytes x codes per byte - weights) are subtracted.
    """
    fmt = get_format(storage)
    byte_counts = torch.bincount(packed.reshape(-1).to(torch.int64), minlength=256)
    padding = packed.numel() * fmt.codes_per_byte - weights
    return int((byte_counts * _zeros_per_byte(storage)).sum()) - padding


def _float_shapes(manifest: Manifest, stored_shapes: dict[str, list[int]]) -> dict[str, list[int]]:
    """Tensor names and shapes the same model would have as a plain float checkpoint."""
    packed = manifest.packed_tensors()
    shapes = {name: shape for name, shape in stored_shapes.items() if name not in packed}
    for entry in manifest.layers:
        shapes[f"{entry.name}.weight"] = list(entry.shape)
        if entry.bias:
            shapes[f"{entry.name}.bias"] = [entry.shape[0]]
    for entry in manifest.embeddings:
        shapes[f"{entry.name}.weight"] = list(entry.shape)
    return shapes


def fp32_safetensors_size(shapes: dict[str, list[int]]) -> int:
    """Exact size of a ``model.safetensors`` holding these tensors in float32 (header included)."""
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name in sorted(shapes):
        count = 1
        for dim in shapes[name]:
            count *= dim
        header[name] = {
            "dtype": "F32",
            "shape": shapes[name],
            "data_offsets": [offset, offset + count * FP32_BYTES],
        }
        offset += count * FP32_BYTES
    header_bytes = len(json.dumps(header, separators=(",", ":")).encode())
    header_bytes += -header_bytes % SAFETENSORS_ALIGNMENT
    return len(struct.pack("<Q", header_bytes)) + header_bytes + offset


def format_table(info: ModelInfo) -> str:
    """Human-readable report of :func:`inspect_folder`."""
    config = info.ternary_config
    lines = [
        f"model folder        {info.path}",
        f"base model          {info.base_model or 'unknown'}",
        f"method              threshold={config['threshold']} granularity={config['granularity']} "
        f"storage={config['storage']} activations={config['activations']}",
        f"ternary layers      {len(info.layers)} ({info.linear_weights:,} weights)",
        f"code bits/weight    {info.linear_bits_per_weight:.4f}",
        f"scale bits/weight   {info.scale_bits_per_weight:.4f}",
        f"zero fraction       {info.zero_fraction:.4f}",
        f"scales min/med/max  {info.scale_min:.4g} / {info.scale_median:.4g} / {info.scale_max:.4g}",
        f"embeddings          {info.embedding_precision} ({', '.join(info.embeddings) or 'none compressed'})",
        f"weights size        {info.weights_bytes:,} bytes",
        f"fp32 weights size   {info.fp32_weights_bytes:,} bytes",
        f"ratio               {info.ratio:.4f}",
        "",
        f"{'layer':<52} {'shape':>11} {'storage':>7} {'scales':>9} {'zeros':>6}",
    ]
    for layer in info.layers:
        shape = "x".join(map(str, layer.shape))
        scale_shape = "x".join(map(str, layer.scale_shape))
        lines.append(
            f"{layer.name:<52} {shape:>11} {layer.storage:>7} {scale_shape:>9} {layer.zero_fraction:>6.3f}"
        )
    return "\n".join(lines)
