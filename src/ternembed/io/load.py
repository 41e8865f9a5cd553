"""Load a packed ternembed folder as a TernarySentenceTransformer, after validating every file."""

from __future__ import annotations

import os
from pathlib import Path

from safetensors.torch import load_file
from torch import nn

from ternembed.io.errors import ManifestMismatchError, UnsupportedArchitectureError
from ternembed.io.hf_quantizer import register_with_transformers
from ternembed.io.manifest import Manifest
from ternembed.io.module_files import check_module_files
from ternembed.io.save import hf_model_of
from ternembed.io.sentence_transformer import TernarySentenceTransformer
from ternembed.io.source_folder import check_json_files
from ternembed.io.stock_loaders import register_folder_architecture
from ternembed.io.tokenizer_check import check_tokenizer
from ternembed.io.validate import (
    check_folder,
    check_hf_config,
    check_sentence_transformer_folder,
    check_tensor_values,
    check_weights,
    read_manifest,
    weights_path,
)
from ternembed.nn import PackedTernaryLinear, QuantizedEmbedding, enable_fused_encoder


def load(folder: str | os.PathLike, device: str = "cpu") -> TernarySentenceTransformer:
    """Load a folder written by :func:`ternembed.save`.

    The manifest, ``config.json`` and the safetensors header are checked before anything is built;
    loading then goes through the stock sentence-transformers / transformers path with the
    ``ternembed`` quantizer, and the result is checked tensor by tensor against the file: values
    finite, packed codes valid, a tokenizer that fits the vocabulary. Safetensors only; remote code
    is never trusted.
    """
    register_with_transformers()
    root = check_folder(folder)
    check_json_files(root)
    register_folder_architecture(root)
    check_sentence_transformer_folder(root)
    check_module_files(root)
    manifest = read_manifest(root)
    weights = weights_path(root)
    check_weights(weights, manifest)
    check_hf_config(root, manifest)
    model = TernarySentenceTransformer(str(root), device="cpu", trust_remote_code=False)
    check_tokenizer(model, root)
    hf_model = hf_model_of(model)
    for entry in (*manifest.layers, *manifest.embeddings):
        module = hf_model.get_submodule(entry.name)
        if not isinstance(module, (PackedTernaryLinear, QuantizedEmbedding)):
            raise UnsupportedArchitectureError(
                f"{entry.name!r} was loaded as {type(module).__name__}, not a packed module: transformers did "
                "not apply the ternembed quantizer; report this with your transformers version"
            )
    _load_exact_tensors(hf_model, weights, manifest)
    enable_fused_encoder(hf_model)
    return model.to(device).eval()  # packed layers are inference-only


def _load_exact_tensors(hf_model: nn.Module, weights: Path, manifest: Manifest) -> None:
    """Copy the file's tensors into the model; a bad value, a missing or extra name or a wrong shape is an error."""
    tensors = load_file(str(weights))
    check_tensor_values(tensors, manifest, weights)
    expected = hf_model.state_dict()
    for name, tensor in tensors.items():
        if name in expected and tuple(expected[name].shape) != tuple(tensor.shape):
            raise ManifestMismatchError(
                f"{weights}: tensor {name!r} has shape {list(tensor.shape)} but the {type(hf_model).__name__} "
                f"described by config.json expects {list(expected[name].shape)}; re-save the model with ternembed.save"
            )
    result = hf_model.load_state_dict(tensors, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ManifestMismatchError(
            f"{weights} does not match the {type(hf_model).__name__} described by config.json: "
            f"missing {result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}; "
            "re-save the model with ternembed.save"
        )
