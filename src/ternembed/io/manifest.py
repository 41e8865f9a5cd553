"""The manifest: which modules of a Hugging Face model are packed ternary or compressed embeddings.

It is written to ``ternary_config.json`` (and, as the ``quantization_config`` entry, to
``config.json``), names modules relative to the Hugging Face model, and holds enough to rebuild the
empty packed modules and to verify every tensor of ``model.safetensors`` before loading it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ternembed.config import ACTIVATION_MODES, FORMAT_VERSION, STORAGE_FORMATS, TernaryConfig
from ternembed.formats import get_format
from ternembed.io.errors import ManifestMismatchError, UnsupportedArchitectureError
from ternembed.nn import PackedTernaryLinear, QuantizedEmbedding, TernaryLinear
from ternembed.nn.quantized_embedding import INT4_GROUP_SIZE

QUANT_METHOD = "ternembed"


@dataclass(frozen=True)
class LayerEntry:
    """One packed ternary linear layer."""

    name: str
    shape: tuple[int, int]
    storage: str
    group_size: int | None
    scale_shape: tuple[int, int]
    bias: bool
    activations: str

    def tensors(self) -> dict[str, tuple[torch.dtype, tuple[int, ...]]]:
        """Expected (dtype, shape) of each tensor this layer stores, by full tensor name."""
        specs = {
            f"{self.name}.weight_packed": (torch.uint8, get_format(self.storage).packed_shape(self.shape)),
            f"{self.name}.weight_scale": (torch.float32, tuple(self.scale_shape)),
        }
        if self.bias:
            specs[f"{self.name}.bias"] = (torch.float32, (self.shape[0],))
        return specs

    def build(self) -> PackedTernaryLinear:
        return PackedTernaryLinear(
            self.shape[1],
            self.shape[0],
            bias=self.bias,
            storage=self.storage,
            group_size=self.group_size,
            activations=self.activations,
            scale_shape=self.scale_shape,
        )


@dataclass(frozen=True)
class EmbeddingEntry:
    """One compressed embedding table."""

    name: str
    shape: tuple[int, int]
    precision: str
    padding_idx: int | None

    def tensors(self) -> dict[str, tuple[torch.dtype, tuple[int, ...]]]:
        rows, dim = self.shape
        if self.precision == "fp16":
            return {f"{self.name}.weight_fp16": (torch.float16, (rows, dim))}
        if self.precision == "int8":
            return {
                f"{self.name}.weight_int8": (torch.int8, (rows, dim)),
                f"{self.name}.weight_scale": (torch.float16, (rows, 1)),
            }
        return {
            f"{self.name}.weight_int4": (torch.uint8, (rows, -(-dim // 2))),
            f"{self.name}.weight_scale": (torch.float16, (rows, -(-dim // INT4_GROUP_SIZE))),
        }

    def build(self) -> QuantizedEmbedding:
        return QuantizedEmbedding(self.shape[0], self.shape[1], self.precision, self.padding_idx)


@dataclass(frozen=True)
class Manifest:
    """Everything ``ternary_config.json`` records about a packed model."""

    config: TernaryConfig
    layers: tuple[LayerEntry, ...]
    embeddings: tuple[EmbeddingEntry, ...]
    base_model: str | None = None
    format_version: int = FORMAT_VERSION

    def packed_tensors(self) -> dict[str, tuple[torch.dtype, tuple[int, ...]]]:
        """Expected (dtype, shape) of every tensor owned by a packed layer or compressed embedding."""
        specs: dict[str, tuple[torch.dtype, tuple[int, ...]]] = {}
        for entry in (*self.layers, *self.embeddings):
            specs.update(entry.tensors())
        return specs

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "base_model": self.base_model,
            "ternary_config": self.config.to_dict(),
            "layers": [_entry_dict(entry) for entry in self.layers],
            "embeddings": [_entry_dict(entry) for entry in self.embeddings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "ternary_config.json") -> Manifest:
        """Parse a manifest, raising ManifestMismatchError that names ``source`` on any bad field."""
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ManifestMismatchError(
                f"{source}: format_version {version!r} is not supported by this ternembed (expects "
                f"{FORMAT_VERSION}); upgrade ternembed or re-save the model with this version"
            )
        try:
            layers = tuple(
                LayerEntry(
                    name=item["name"],
                    shape=tuple(item["shape"]),
                    storage=item["storage"],
                    group_size=item["group_size"],
                    scale_shape=tuple(item["scale_shape"]),
                    bias=bool(item["bias"]),
                    activations=item["activations"],
                )
                for item in data["layers"]
            )
            embeddings = tuple(
                EmbeddingEntry(
                    name=item["name"],
                    shape=tuple(item["shape"]),
                    precision=item["precision"],
                    padding_idx=item["padding_idx"],
                )
                for item in data["embeddings"]
            )
            config = TernaryConfig.from_dict(data["ternary_config"])
        except (KeyError, TypeError, ValueError) as error:
            raise ManifestMismatchError(
                f"{source} is malformed ({type(error).__name__}: {error}); re-save the model with ternembed.save"
            ) from None
        check_consistent(config, layers, embeddings, source)
        return cls(config, layers, embeddings, data.get("base_model"), version)


EMBEDDING_ENTRY_PRECISIONS = ("fp16", "int8", "int4")


def check_consistent(
    config: TernaryConfig, layers: tuple[LayerEntry, ...], embeddings: tuple[EmbeddingEntry, ...], source: str
) -> None:
    """Each layer's and table's settings are known values and agree with the top-level ternary config."""
    for entry in layers:
        for setting, value, choices in (
            ("storage", entry.storage, STORAGE_FORMATS),
            ("activations", entry.activations, ACTIVATION_MODES),
        ):
            if value not in choices:
                raise ManifestMismatchError(
                    f"{source}: layer {entry.name!r} has {setting} {value!r}, which is not one of {list(choices)}; "
                    "the file is damaged or from a newer ternembed: re-save the model"
                )
        for setting, top, own in (
            ("storage", config.storage, entry.storage),
            ("activations", config.activations, entry.activations),
            ("group_size (granularity)", config.group_size, entry.group_size),
        ):
            if top != own:
                raise ManifestMismatchError(
                    f"{source}: ternary_config says {setting} {top!r} but layer {entry.name!r} has {own!r}; "
                    "the file was edited or assembled from different saves: re-save the model"
                )
    for entry in embeddings:
        if entry.precision not in EMBEDDING_ENTRY_PRECISIONS or entry.precision != config.embeddings:
            raise ManifestMismatchError(
                f"{source}: ternary_config says embeddings {config.embeddings!r} but table {entry.name!r} has "
                f"precision {entry.precision!r}; the file was edited or assembled from different saves: "
                "re-save the model"
            )


def _entry_dict(entry: LayerEntry | EmbeddingEntry) -> dict[str, Any]:
    data = asdict(entry)
    return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}


def describe_model(model: nn.Module, config: TernaryConfig, base_model: str | None = None) -> Manifest:
    """The manifest of a frozen Hugging Face model (packed layers and compressed embeddings)."""
    trainable = [name for name, m in model.named_modules() if isinstance(m, TernaryLinear)]
    if trainable:
        raise ManifestMismatchError(
            f"{len(trainable)} layers are still trainable TernaryLinear (first: {trainable[0]!r}); "
            "call ternembed.freeze(model, config) before saving"
        )
    layers = tuple(
        LayerEntry(
            name=name,
            shape=(module.out_features, module.in_features),
            storage=module.storage,
            group_size=module.group_size,
            scale_shape=tuple(module.weight_scale.shape),
            bias=module.bias is not None,
            activations=module.activations,
        )
        for name, module in model.named_modules()
        if isinstance(module, PackedTernaryLinear)
    )
    embeddings = tuple(
        EmbeddingEntry(
            name, (module.num_embeddings, module.embedding_dim), module.precision, module.padding_idx
        )
        for name, module in model.named_modules()
        if isinstance(module, QuantizedEmbedding)
    )
    return Manifest(_config_of_modules(config, layers, embeddings), layers, embeddings, base_model)


def _config_of_modules(
    config: TernaryConfig, layers: tuple[LayerEntry, ...], embeddings: tuple[EmbeddingEntry, ...]
) -> TernaryConfig:
    """``config`` with storage, granularity, activations and embeddings as the modules really are.

    A model frozen with one config can be saved with another, or switched to int8 activations after
    loading; the manifest records what the layers hold, so the file never contradicts itself.
    Layers that differ among themselves cannot be described by one config and are refused.
    """
    changes: dict[str, Any] = {}
    for setting, values in (
        ("storage", {entry.storage for entry in layers}),
        ("activations", {entry.activations for entry in layers}),
        ("group_size", {entry.group_size for entry in layers}),
        ("embeddings", {entry.precision for entry in embeddings}),
    ):
        if len(values) > 1:
            raise ManifestMismatchError(
                f"the model's packed modules mix {setting} values {sorted(map(str, values))}; one saved model "
                f"holds one {setting}: freeze (or set_activations) the whole model with one setting"
            )
        if values:
            changes[setting] = values.pop()
    if "group_size" in changes:
        group_size = changes.pop("group_size")
        if group_size != config.group_size:
            changes["granularity"] = _granularity(group_size)
    return dataclasses.replace(config, **changes) if changes else config


def _granularity(group_size: int | None) -> str:
    if group_size is None:
        return "tensor"
    return "row" if group_size == 0 else f"group:{group_size}"


def install_empty_modules(model: nn.Module, manifest: Manifest) -> nn.Module:
    """Swap the listed ``nn.Linear`` / ``nn.Embedding`` modules of a fresh model for empty packed ones.

    The model's own layer types and shapes must match the manifest, so a checkpoint saved from another
    architecture fails here with a clear message instead of loading into the wrong places.
    """
    for entry in (*manifest.layers, *manifest.embeddings):
        expected_type = nn.Linear if isinstance(entry, LayerEntry) else nn.Embedding
        try:
            current = model.get_submodule(entry.name)
        except AttributeError:
            raise UnsupportedArchitectureError(
                f"the manifest lists module {entry.name!r} but the {type(model).__name__} built from "
                "config.json has no such module; the checkpoint was saved from another architecture"
            ) from None
        if isinstance(current, (PackedTernaryLinear, QuantizedEmbedding)):
            continue
        current_shape = _module_shape(current)
        if type(current) is not expected_type or current_shape != tuple(entry.shape):
            raise UnsupportedArchitectureError(
                f"module {entry.name!r} of {type(model).__name__} is {type(current).__name__} of shape "
                f"{current_shape}, but the manifest expects {expected_type.__name__} of shape {tuple(entry.shape)}"
            )
        with torch.device(_module_device(current)):
            replacement = entry.build()
        parent_name, _, child_name = entry.name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child_name, replacement)
    return model


def _module_shape(module: nn.Module) -> tuple[int, ...] | None:
    if isinstance(module, nn.Linear):
        return (module.out_features, module.in_features)
    if isinstance(module, nn.Embedding):
        return (module.num_embeddings, module.embedding_dim)
    return None


def _module_device(module: nn.Module) -> torch.device:
    tensor = next(module.parameters(), None)
    return tensor.device if tensor is not None else torch.device("cpu")
