"""Run a packed ternary BERT/MPNet encoder in one call to the C library instead of module by module.

:func:`enable_fused_encoder` gives every supported encoder of a model a fused ``forward`` (an instance
attribute; the class, parameters and state dict stay as they are). Each call checks that the fast path
applies (CPU float32 inference, native kernels selected, a key-padding mask, nothing asked that only the
module stack provides such as attentions or per-layer hidden states) and otherwise runs the original
forward. Supported: post-LayerNorm encoders laid out as BERT (``attention.self.query`` ...) or MPNet
(``attention.attn.q`` ... with relative position bias) whose six linears per layer are
:class:`PackedTernaryLinear` and whose activation is the exact GELU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from operator import attrgetter

import torch
from torch import nn

from ternembed.kernels import ISA_NAMES, STATE_LOCK, native_library, native_state, selected_kernel
from ternembed.kernels.native import build_encoder, repack_stacked, run_encoder
from ternembed.nn.packed_linear import PackedTernaryLinear


@dataclass
class _LayerParts:
    query: nn.Module
    key: nn.Module
    value: nn.Module
    out: nn.Module
    attention_norm: nn.Module
    ffn_in: nn.Module
    activation: nn.Module
    ffn_out: nn.Module
    output_norm: nn.Module

    def linears(self) -> tuple[nn.Module, ...]:
        return (self.query, self.key, self.value, self.out, self.ffn_in, self.ffn_out)


_FFN_PATHS = ("intermediate.dense", "intermediate.intermediate_act_fn", "output.dense", "output.LayerNorm")
_LAYER_PATHS = {
    "bert": (
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "attention.output.LayerNorm",
        *_FFN_PATHS,
    ),
    "mpnet": (
        "attention.attn.q",
        "attention.attn.k",
        "attention.attn.v",
        "attention.attn.o",
        "attention.LayerNorm",
        *_FFN_PATHS,
    ),
}
"""Where each architecture keeps a layer's parts, in :class:`_LayerParts` order."""


def _layer_parts(layer: nn.Module, kind: str) -> _LayerParts:
    return _LayerParts(*(attrgetter(path)(layer) for path in _LAYER_PATHS[kind]))


def _is_exact_gelu(module: nn.Module) -> bool:
    if isinstance(module, nn.GELU):
        return module.approximate == "none"
    act = getattr(module, "act", None)
    return type(module).__name__ == "GELUActivation" and (
        act is nn.functional.gelu or getattr(act, "__name__", "") == "_gelu_python"
    )


def _encoder_parts(encoder: nn.Module) -> tuple[str, list[_LayerParts]] | None:
    """The architecture kind and per-layer parts of a supported encoder, or None."""
    layers = getattr(encoder, "layer", None)
    if not isinstance(layers, nn.ModuleList) or len(layers) == 0:
        return None
    kind = "mpnet" if hasattr(encoder, "relative_attention_bias") else "bert"
    config = getattr(encoder, "config", None)
    if kind == "bert" and (
        getattr(config, "is_decoder", False)
        or getattr(config, "position_embedding_type", "absolute") not in ("absolute", None)
    ):
        return None
    try:
        parts = [_layer_parts(layer, kind) for layer in layers]
    except AttributeError:
        return None
    for part in parts:
        if not all(isinstance(linear, PackedTernaryLinear) for linear in part.linears()):
            return None
        if not isinstance(part.attention_norm, nn.LayerNorm) or not isinstance(
            part.output_norm, nn.LayerNorm
        ):
            return None
        if not _is_exact_gelu(part.activation):
            return None
    return kind, parts


def _key_bias(mask: torch.Tensor | None, batch: int, seq: int) -> torch.Tensor | None | bool:
    """The mask as an additive per-key bias ``[batch, seq]``; False when it is not a key-padding mask."""
    if mask is None:
        return None
    if mask.dim() == 2:
        keys = mask
    elif mask.dim() == 4 and mask.shape[1] == 1:
        rows = mask[:, 0]
        keys = rows[:, 0]
        if rows.shape[1] > 1 and rows.stride(1) != 0 and not torch.equal(rows, keys[:, None].expand_as(rows)):
            return False
    else:
        return False
    if tuple(keys.shape) != (batch, seq):
        return False
    if keys.dtype == torch.bool or mask.dim() == 2:
        lowest = torch.finfo(torch.float32).min
        return torch.where(keys.bool(), 0.0, lowest).float().contiguous()
    return keys.float().contiguous()


class _SharedKernelState:
    """Marks a query/key/value layer whose weights the fused encoder holds (stacked into one kernel layer)."""


class FusedEncoderForward:
    """The fused ``forward`` of one encoder module; falls back to the class's own forward when needed.

    The repacked weights are rebuilt when anything they came from changes: a packed layer's
    ``kernel_state`` (reset by ``.to()`` and ``load_state_dict``), its activation mode, or a LayerNorm
    tensor (replaced or edited in place).
    """

    def __init__(self, encoder: nn.Module, kind: str, parts: list[_LayerParts]) -> None:
        self.encoder = encoder
        self.kind = kind
        self.parts = parts
        self.linears = [linear for part in parts for linear in part.linears()]
        self.norms = [part.attention_norm for part in parts] + [part.output_norm for part in parts]
        self.heads = encoder.config.num_attention_heads
        self.state = None

    def __getstate__(self) -> dict:
        # The native encoder holds ctypes pointers into this process's memory: a pickled copy (a
        # multiprocessing worker, copy.deepcopy) keeps the fused forward and rebuilds the state at first use.
        return {**self.__dict__, "state": None}

    def _key(self, isa: str) -> tuple:
        # Read the parameter dicts directly: Module.__getattr__ on every call costs more than the kernel
        # call's own Python side at batch 1.
        tensors = [t for norm in self.norms for t in norm._parameters.values()]
        return (
            isa,
            *(id(linear.kernel_state) for linear in self.linears),
            *(linear.activations for linear in self.linears),
            *(t.data_ptr() for t in tensors),
            *(t._version for t in tensors),
        )

    def _native_state(self, isa: str):  # noqa: ANN202 - NativeEncoder, or None where the layers are mixed
        state = self.state
        if state is not None and state.source == self._key(isa):
            return state
        with STATE_LOCK:  # no mode switch between reading the modes, the build and its cache key
            return self._build_native_state(isa)

    def _build_native_state(self, isa: str):  # noqa: ANN202
        if self.state is not None and self.state.source == self._key(isa):
            return self.state
        modes = {linear.activations for linear in self.linears}
        epsilons = {norm.eps for norm in self.norms}
        if len(modes) != 1 or len(epsilons) != 1:
            return None
        mode = modes.pop()
        stages = []
        for part in self.parts:
            qkv = repack_stacked(
                [part.query, part.key, part.value],
                isa == "amx" and mode == "float",
                isa == "amx" and mode == "int8",
            )
            for linear in (part.query, part.key, part.value):
                linear.kernel_state = _SharedKernelState()
            stages.append(
                {
                    "qkv": qkv,
                    "out": native_state(part.out, isa),
                    "ffn_in": native_state(part.ffn_in, isa),
                    "ffn_out": native_state(part.ffn_out, isa),
                    "attention_norm_weight": part.attention_norm.weight,
                    "attention_norm_bias": part.attention_norm.bias,
                    "output_norm_weight": part.output_norm.weight,
                    "output_norm_bias": part.output_norm.bias,
                }
            )
        first = self.parts[0]
        self.state = build_encoder(
            stages,
            hidden=first.query.in_features,
            heads=self.heads,
            intermediate=first.ffn_in.out_features,
            norm_eps=epsilons.pop(),
            mode=mode,
            source=self._key(isa),
        )
        return self.state

    def available(self) -> bool:
        """Whether inference may take the fused path at all (not training, not switched off, native kernel)."""
        return (
            not self.encoder.training
            and os.environ.get(FUSED_ENV, "1") != "0"
            and selected_kernel() != "reference"
        )

    def _fast_path_applies(self, hidden_states: torch.Tensor, args: tuple, kwargs: dict) -> bool:
        if hidden_states.device.type != "cpu" or hidden_states.dim() != 3:
            return False
        if hidden_states.dtype != torch.float32 or (hidden_states.requires_grad and torch.is_grad_enabled()):
            return False
        if any(arg is not None for arg in args):
            return False
        for name in ("output_attentions", "output_hidden_states", "use_cache"):
            if kwargs.get(name):
                return False
        for name in ("encoder_hidden_states", "encoder_attention_mask", "cache", "past_key_values"):
            if kwargs.get(name) is not None:
                return False
        return self.available()

    def __call__(
        self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None, *args, **kwargs
    ):  # noqa: ANN002, ANN003, ANN204
        from transformers.modeling_outputs import BaseModelOutput, BaseModelOutputWithPastAndCrossAttentions

        output = None
        if self._fast_path_applies(hidden_states, args, kwargs):
            output = self.run(hidden_states, _key_bias(attention_mask, *hidden_states.shape[:2]))
        if output is None:
            return type(self.encoder).forward(self.encoder, hidden_states, attention_mask, *args, **kwargs)
        if self.kind == "mpnet":
            return (
                BaseModelOutput(last_hidden_state=output) if kwargs.get("return_dict", False) else (output,)
            )
        return BaseModelOutputWithPastAndCrossAttentions(last_hidden_state=output)

    def run_with_padding_mask(
        self, hidden_states: torch.Tensor, attention_mask: torch.Tensor, isa: str | None = None
    ) -> torch.Tensor | None:
        """The encoder's output for a tokenizer's ``[batch, seq]`` mask (1 = token), or None where the
        fused path does not apply (the caller then runs the modules). ``isa`` as for :meth:`run`."""
        if not self._fast_path_applies(hidden_states, (), {}):
            return None
        key_bias = None if bool(attention_mask.all()) else _key_bias(attention_mask, *hidden_states.shape[:2])
        return self.run(hidden_states, key_bias, isa)

    def run(
        self, hidden_states: torch.Tensor, key_bias: torch.Tensor | None | bool, isa: str | None = None
    ) -> torch.Tensor | None:
        """All layers in one C call; None when the kernel or the mask (False: not key-padding) rules it out.
        ``isa``: the caller's :func:`selected_kernel` (looked up when not given)."""
        isa = isa or selected_kernel()
        if isa == "reference" or key_bias is False:
            return None
        state = self._native_state(isa)
        if state is None:
            return None
        position_bias = None
        if self.kind == "mpnet":
            position_bias = self.encoder.compute_position_bias(hidden_states[:1])[0].float().contiguous()
        return run_encoder(
            native_library()[0], state, hidden_states, key_bias, position_bias, ISA_NAMES.index(isa)
        )


FUSED_ENV = "TERNEMBED_FUSED_ENCODER"
"""Set to ``0`` to run packed encoders module by module (the fused forward is on by default)."""


def enable_fused_encoder(model: nn.Module) -> int:
    """Give every supported encoder in ``model`` the fused forward; returns how many were fused."""
    fused = 0
    for module in model.modules():
        if isinstance(module.__dict__.get("forward"), FusedEncoderForward):
            fused += 1
            continue
        found = _encoder_parts(module)
        if found is not None and hasattr(module, "config"):
            module.forward = FusedEncoderForward(module, *found)
            fused += 1
    return fused
