"""TernarySentenceTransformer: a SentenceTransformer whose ``encode([])`` keeps the embedding width."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from ternembed.io.fast_forward import fast_text_forward

_PRECISION_DTYPES = {
    "float32": (np.float32, torch.float32),
    "int8": (np.int8, torch.int8),
    "uint8": (np.uint8, torch.uint8),
    "binary": (np.int8, torch.int8),
    "ubinary": (np.uint8, torch.uint8),
}


class TernarySentenceTransformer(SentenceTransformer):
    """A SentenceTransformer loaded from a packed ternary folder (see :func:`ternembed.load`).

    Behaves exactly like ``SentenceTransformer``, except that encoding an empty batch returns an
    empty ``(0, dim)`` array or tensor instead of a shape-``(0,)`` one, so callers can stack results,
    and that inference through the standard text pipeline takes a fused shortcut
    (:func:`ternembed.io.fast_forward.fast_text_forward`) with the same outputs.
    """

    _resolved_device: tuple | None = None

    def _resolve_inference_device(self, device: Any) -> torch.device:
        """sentence-transformers scans every parameter and buffer for its device on each ``encode``
        (milliseconds per query here); remember the answer until the model is moved or cast."""
        key = (str(device), self._placement_is_delegated)
        if self._resolved_device is not None and self._resolved_device[0] == key:
            return self._resolved_device[1]
        resolved = super()._resolve_inference_device(device)
        self._resolved_device = (key, resolved)
        return resolved

    def _apply(self, fn: Any, recurse: bool = True) -> TernarySentenceTransformer:
        self._resolved_device = None
        return super()._apply(fn, recurse)

    def forward(self, input: dict, **kwargs: Any) -> dict:  # noqa: A002 - sentence-transformers' name
        fast = fast_text_forward(self, input, kwargs)
        return fast if fast is not None else super().forward(input, **kwargs)

    def encode(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_empty_batch(inputs):
            return super().encode(inputs, *args, **kwargs)
        options = _bind_encode_options(self, inputs, args, kwargs)
        if options["output_value"] != "sentence_embedding" or (
            not options["convert_to_numpy"] and not options["convert_to_tensor"]
        ):
            return super().encode(inputs, *args, **kwargs)
        width = options["truncate_dim"] or self.truncate_dim or self.get_embedding_dimension()
        precision = options["precision"]
        if precision in ("binary", "ubinary"):
            width = -(-width // 8)
        numpy_dtype, torch_dtype = _PRECISION_DTYPES[precision]
        if options["convert_to_tensor"]:
            return torch.empty((0, width), dtype=torch_dtype, device=self.device)
        return np.empty((0, width), dtype=numpy_dtype)


def _is_empty_batch(inputs: Any) -> bool:
    return isinstance(inputs, (list, tuple, np.ndarray)) and len(inputs) == 0


def _bind_encode_options(
    model: SentenceTransformer, inputs: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The encode arguments with SentenceTransformer's own defaults filled in."""
    bound = inspect.signature(SentenceTransformer.encode).bind(model, inputs, *args, **kwargs)
    bound.apply_defaults()
    return bound.arguments
