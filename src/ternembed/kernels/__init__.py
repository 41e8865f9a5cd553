"""Ternary matmul kernels: the pure-torch reference and, when built, the fast CPU path.

:func:`ternary_linear` is the single entry point. It uses the compiled library (``csrc/``, loaded
with ctypes) at the best instruction set this CPU has, and the reference otherwise. The environment
variable ``TERNEMBED_KERNEL`` forces a path: ``auto`` (default), ``reference``, or one of
:data:`~ternembed.kernels.native.ISA_NAMES` (``portable``, ``avx2``, ``avx512``, ``amx``).
"""

from __future__ import annotations

import ctypes
import os
import threading
import warnings
from typing import Literal

import torch

from ternembed.errors import InvalidArgumentError
from ternembed.kernels.native import (
    ISA_NAMES,
    LIBRARY_ENV,
    KernelLibraryError,
    NativeLayer,
    library_path,
    load_library,
    repack,
    run_linear,
)
from ternembed.kernels.reference import ternary_linear_reference

KERNEL_ENV = "TERNEMBED_KERNEL"
KERNEL_CHOICES: tuple[str, ...] = ("auto", "reference", *ISA_NAMES)
Epilogue = Literal["gelu"] | None


class KernelFallbackWarning(RuntimeWarning):
    """The compiled kernels could not be used; the (slow) reference runs instead."""


_libraries: dict[str | None, tuple[ctypes.CDLL, int] | None] = {}


def native_library() -> tuple[ctypes.CDLL, int] | None:
    """The loaded kernel library and the best instruction set it runs here, or None (warned once)."""
    key = os.environ.get(LIBRARY_ENV)
    if key not in _libraries:
        try:
            lib = load_library(library_path())
            _libraries[key] = (lib, int(lib.te_cpu_isa()))
        except KernelLibraryError as error:
            warnings.warn(
                f"{error}. Falling back to the pure-torch reference kernel, which is much slower.",
                KernelFallbackWarning,
                stacklevel=3,
            )
            _libraries[key] = None
    return _libraries[key]


def selected_kernel() -> str:
    """Name of the path :func:`ternary_linear` takes: ``reference`` or an instruction set name."""
    choice = os.environ.get(KERNEL_ENV, "auto")
    if choice not in KERNEL_CHOICES:
        raise InvalidArgumentError(f"{KERNEL_ENV}={choice!r} is not one of {list(KERNEL_CHOICES)}")
    if choice == "reference":
        return choice
    loaded = native_library()
    if loaded is None:
        return "reference"
    best = loaded[1]
    if choice == "auto":
        return ISA_NAMES[best]
    if ISA_NAMES.index(choice) > best:
        raise KernelLibraryError(
            f"{KERNEL_ENV}={choice} asks for an instruction set this CPU lacks; the best here is {ISA_NAMES[best]}"
        )
    return choice


def _reference(x: torch.Tensor, layer, epilogue: Epilogue) -> torch.Tensor:  # noqa: ANN001
    out = ternary_linear_reference(x, layer)
    return torch.nn.functional.gelu(out) if epilogue == "gelu" else out


STATE_LOCK = threading.RLock()
"""Held while kernel states are built and while activation modes switch, so that a state is never
built for one mode and cached under another while other threads encode."""


def native_state(layer, isa: str, activations: str | None = None) -> NativeLayer:  # noqa: ANN001
    """The layer's repacked weights for ``isa``, built at first use and cached in ``layer.kernel_state``.

    ``activations``: the mode the caller will run (default: the layer's current mode), read once by
    the caller so a concurrent mode switch cannot pair a state with the other mode.
    """
    mode = activations or layer.activations
    state = layer.kernel_state
    if _usable(state, layer, isa, mode):
        return state
    with STATE_LOCK:
        state = layer.kernel_state
        if not _usable(state, layer, isa, mode):
            state = repack(layer, isa == "amx" and mode == "float", isa == "amx" and mode == "int8")
            layer.kernel_state = state
        return state


def _usable(state, layer, isa: str, mode: str) -> bool:  # noqa: ANN001
    if not isinstance(state, NativeLayer) or not state.matches(layer):
        return False
    if isa == "amx" and mode == "float" and state.bf16 is None:
        return False
    return not (isa == "amx" and mode == "int8" and state.codes2 is None)


def ternary_linear(x: torch.Tensor, layer, epilogue: Epilogue = None) -> torch.Tensor:  # noqa: ANN001
    """Apply a packed ternary layer to ``x`` with the best kernel available.

    Args:
        x: activations ``[..., in_features]``.
        layer: a :class:`~ternembed.nn.PackedTernaryLinear` (float or int8 activations).
        epilogue: ``"gelu"`` applies the exact (erf) GELU to the output, fused in the fast kernel.
    """
    needs_autograd = x.requires_grad and torch.is_grad_enabled()
    if x.device.type != "cpu" or needs_autograd:
        return _reference(x, layer, epilogue)
    kernel = selected_kernel()
    if kernel == "reference":
        return _reference(x, layer, epilogue)
    lib = _libraries[os.environ.get(LIBRARY_ENV)][0]
    mode = layer.activations  # read once: another thread may switch modes while this call runs
    out = run_linear(lib, native_state(layer, kernel, mode), x, mode, ISA_NAMES.index(kernel), epilogue)
    return out if x.dtype == torch.float32 else out.to(x.dtype)


__all__ = [
    "STATE_LOCK",
    "KERNEL_CHOICES",
    "KERNEL_ENV",
    "KernelFallbackWarning",
    "KernelLibraryError",
    "native_library",
    "selected_kernel",
    "ternary_linear",
    "ternary_linear_reference",
]
