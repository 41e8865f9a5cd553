"""ctypes bridge to the compiled kernels in ``csrc/``: find and load the library, repack a layer once.

The library is a plain C shared object built by ``setup.py`` (no Python or torch headers); it works on
tensor memory through ``data_ptr()``. Repacked weights live in ``layer.kernel_state`` as a
:class:`NativeLayer`, rebuilt whenever the layer's packed buffers change.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ternembed.errors import TernembedError

LIBRARY_ENV = "TERNEMBED_KERNEL_LIBRARY"
"""Path of the compiled kernel library to load instead of the one installed beside this module."""

ISA_NAMES: tuple[str, ...] = ("portable", "avx2", "avx512", "amx")
"""Instruction sets the library dispatches to, slowest first (the C enum te_isa)."""

BLOCK_N, BLOCK_K, PANEL_N = 16, 64, 32
MODES = {"float": 0, "int8": 1}
EPILOGUES = {None: 0, "gelu": 1}
_ERRORS = {-1: "invalid argument", -2: "instruction set not supported by this CPU", -3: "out of memory"}


class KernelLibraryError(TernembedError, RuntimeError):
    """The compiled kernel library is missing, cannot be loaded or reported an error."""


class _Weights(ctypes.Structure):
    _fields_ = [
        ("codes", ctypes.c_void_p),
        ("codes2", ctypes.c_void_p),
        ("bf16", ctypes.c_void_p),
        ("scales", ctypes.c_void_p),
        ("bias", ctypes.c_void_p),
        ("n", ctypes.c_int64),
        ("k", ctypes.c_int64),
        ("n_padded", ctypes.c_int64),
        ("k_padded", ctypes.c_int64),
        ("group", ctypes.c_int64),
        ("group_padded", ctypes.c_int64),
        ("ngroups", ctypes.c_int64),
    ]


class _EncoderLayer(ctypes.Structure):
    _fields_ = [
        ("qkv", _Weights),
        ("out", _Weights),
        ("ffn_in", _Weights),
        ("ffn_out", _Weights),
        ("attention_norm_weight", ctypes.c_void_p),
        ("attention_norm_bias", ctypes.c_void_p),
        ("output_norm_weight", ctypes.c_void_p),
        ("output_norm_bias", ctypes.c_void_p),
    ]


class _Encoder(ctypes.Structure):
    _fields_ = [
        ("layers", ctypes.POINTER(_EncoderLayer)),
        ("num_layers", ctypes.c_int64),
        ("hidden", ctypes.c_int64),
        ("heads", ctypes.c_int64),
        ("intermediate", ctypes.c_int64),
        ("norm_eps", ctypes.c_float),
        ("mode", ctypes.c_int),
    ]


class _Table(ctypes.Structure):
    _fields_ = [("values", ctypes.c_void_p), ("scale", ctypes.c_void_p), ("rows", ctypes.c_int64)]


def library_path() -> Path:
    """Where the kernel library is expected: ``$TERNEMBED_KERNEL_LIBRARY`` or next to this module."""
    override = os.environ.get(LIBRARY_ENV)
    if override:
        return Path(override)
    here = Path(__file__).parent
    candidates = sorted(here.glob("_ternary_native*.so")) + sorted(here.glob("_ternary_native*.pyd"))
    if not candidates:
        raise KernelLibraryError(
            f"no compiled kernel library (_ternary_native*.so) in {here}; reinstall with a C compiler "
            "available (pip install -e .) to build it"
        )
    return candidates[0]


def load_library(path: Path) -> ctypes.CDLL:
    """Load the library at ``path`` and declare its functions."""
    try:
        lib = ctypes.CDLL(str(path))
        lib.te_linear.argtypes = [
            ctypes.POINTER(_Weights),
            ctypes.c_void_p,
            ctypes.c_int64,
            ctypes.c_int64,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.te_linear.restype = ctypes.c_int
        lib.te_encoder_forward.argtypes = [
            ctypes.POINTER(_Encoder),
            ctypes.c_void_p,
            ctypes.c_int64,
            ctypes.c_int64,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.te_encoder_forward.restype = ctypes.c_int
        table = ctypes.POINTER(_Table)
        lib.te_embed.argtypes = [table, table, table, *[ctypes.c_void_p] * 3, ctypes.c_int64, ctypes.c_int64]
        lib.te_embed.argtypes += [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_float,
            ctypes.c_void_p,
            ctypes.c_int,
        ]
        lib.te_embed.restype = ctypes.c_int
        lib.te_mean_pool.argtypes = [ctypes.c_void_p, ctypes.c_void_p, *[ctypes.c_int64] * 3, ctypes.c_int]
        lib.te_mean_pool.argtypes += [ctypes.c_void_p]
        lib.te_mean_pool.restype = None
        lib.te_cpu_isa.restype = ctypes.c_int
    except (OSError, AttributeError) as error:
        raise KernelLibraryError(f"cannot load the kernel library {path}: {error}") from error
    return lib


@dataclass
class NativeLayer:
    """A packed ternary layer repacked for the C kernels (see ``csrc/ternary_kernels.h``)."""

    codes: torch.Tensor
    codes2: torch.Tensor | None
    bf16: torch.Tensor | None
    scales: torch.Tensor
    bias: torch.Tensor | None
    weights: _Weights
    source: tuple[int, ...]

    def matches(self, layer) -> bool:  # noqa: ANN001 - a PackedTernaryLinear
        return self.source == source_key(layer)


def source_key(layer) -> tuple[int, ...]:  # noqa: ANN001
    tensors = (layer.weight_packed, layer.weight_scale, layer.bias)
    return tuple(v for t in tensors if t is not None for v in (t.data_ptr(), t._version))


def _ceil_to(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def repack(layer, with_bf16: bool, with_codes2: bool = False) -> NativeLayer:  # noqa: ANN001
    """Unpack a PackedTernaryLinear's codes once into the blocked int8 kernel layout, plus bf16 tiles
    (AMX, float activations) or the same blocks at 2 bits per code (AMX, int8 activations)."""
    return repack_stacked([layer], with_bf16, with_codes2)


def repack_stacked(layers: list, with_bf16: bool, with_codes2: bool = False) -> NativeLayer:
    """One kernel layer whose outputs are those of ``layers`` in order (same inputs and scale groups).

    Fusing e.g. the query, key and value projections stages the activations once for all three.
    """
    first = layers[0]
    in_features, group_size = first.in_features, first.group_size
    ngroups = first.weight_scale.shape[1]
    if any(layer.in_features != in_features or layer.weight_scale.shape[1] != ngroups for layer in layers):
        raise KernelLibraryError("layers stacked into one kernel layer must share inputs and scale groups")
    group = in_features if ngroups == 1 else group_size
    if not group or -(-in_features // group) != ngroups:
        raise KernelLibraryError(
            f"weight_scale of shape {tuple(first.weight_scale.shape)} does not fit {in_features} inputs with "
            f"group size {group_size}"
        )
    codes_list = [layer.codes() for layer in layers]
    out_features = sum(codes.shape[0] for codes in codes_list)
    scales = torch.cat([layer.weight_scale.float().expand(layer.out_features, ngroups) for layer in layers])
    biases = [layer.bias for layer in layers]
    bias = None
    if any(b is not None for b in biases):
        bias = torch.cat(
            [
                b.detach().float() if b is not None else torch.zeros(layer.out_features)
                for b, layer in zip(biases, layers, strict=True)
            ]
        ).contiguous()
    group_padded = _ceil_to(group, BLOCK_K)
    n_padded, k_padded = _ceil_to(out_features, PANEL_N), ngroups * group_padded
    codes = torch.zeros(n_padded, ngroups, group_padded, dtype=torch.int8)
    unpacked = torch.nn.functional.pad(torch.cat(codes_list), (0, ngroups * group - in_features))
    codes[:out_features, :, :group] = unpacked.reshape(out_features, ngroups, group)
    codes = codes.reshape(n_padded, k_padded)
    blocked = codes.reshape(n_padded // BLOCK_N, BLOCK_N, k_padded // BLOCK_K, BLOCK_K // 4, 4)
    blocked = blocked.permute(0, 2, 3, 1, 4).contiguous()
    codes2 = None
    if with_codes2:
        # [Np/16, Kp/64, 16 (k/4), 16 (n), 4 (k%4)] -> one byte per (k/4, n): (code + 1) << 2 * (k%4)
        quads = (blocked.reshape(n_padded // BLOCK_N, k_padded // BLOCK_K, 16, 16, 4) + 1).to(torch.uint8)
        codes2 = (quads[..., 0] | quads[..., 1] << 2 | quads[..., 2] << 4 | quads[..., 3] << 6).contiguous()
    bf16 = None
    if with_bf16:
        pairs = codes.reshape(n_padded // BLOCK_N, BLOCK_N, k_padded // 32, 16, 2)
        bf16 = pairs.permute(0, 2, 3, 1, 4).to(torch.bfloat16).contiguous()
    scale_table = torch.zeros(ngroups, n_padded, dtype=torch.float32)
    scale_table[:, :out_features] = scales.t()
    weights = _Weights(
        blocked.data_ptr(),
        codes2.data_ptr() if codes2 is not None else None,
        bf16.data_ptr() if bf16 is not None else None,
        scale_table.data_ptr(),
        bias.data_ptr() if bias is not None else None,
        out_features,
        in_features,
        n_padded,
        k_padded,
        group,
        group_padded,
        ngroups,
    )
    source = tuple(v for layer in layers for v in source_key(layer))
    return NativeLayer(blocked, codes2, bf16, scale_table, bias, weights, source)


def run_linear(
    lib: ctypes.CDLL, state: NativeLayer, x: torch.Tensor, mode: str, isa: int, epilogue: str | None
) -> torch.Tensor:
    """``epilogue(x W^T + b)`` for float32 ``x`` of shape ``[..., in_features]``."""
    weights = state.weights
    rows = x.reshape(-1, weights.k)
    if rows.dtype != torch.float32 or rows.stride(-1) != 1:
        rows = rows.float().contiguous()
    out = torch.empty(rows.shape[0], weights.n, dtype=torch.float32)
    code = lib.te_linear(
        ctypes.byref(weights),
        rows.data_ptr(),
        rows.shape[0],
        rows.stride(0),
        out.data_ptr(),
        MODES[mode],
        isa,
        EPILOGUES[epilogue],
        torch.get_num_threads(),
    )
    if code:
        raise KernelLibraryError(f"te_linear failed with code {code}: {_ERRORS.get(code, 'unknown error')}")
    return out.reshape(*x.shape[:-1], weights.n)


@dataclass
class NativeEncoder:
    """A whole post-LayerNorm encoder for ``te_encoder_forward``: its repacked layers and norm tensors."""

    layers: list[NativeLayer]
    norms: list[torch.Tensor]
    structs: ctypes.Array
    encoder: _Encoder
    source: tuple[int, ...]


def build_encoder(
    stages: list[dict],
    *,
    hidden: int,
    heads: int,
    intermediate: int,
    norm_eps: float,
    mode: str,
    source: tuple,
) -> NativeEncoder:
    """Bundle per-layer kernel layers (``qkv``, ``out``, ``ffn_in``, ``ffn_out``) and LayerNorm tensors."""
    keep_layers, keep_norms = [], []
    structs = (_EncoderLayer * len(stages))()
    for struct, stage in zip(structs, stages, strict=True):
        for name in ("qkv", "out", "ffn_in", "ffn_out"):
            keep_layers.append(stage[name])
            setattr(struct, name, stage[name].weights)
        for name in (
            "attention_norm_weight",
            "attention_norm_bias",
            "output_norm_weight",
            "output_norm_bias",
        ):
            tensor = stage[name].detach().float().contiguous()
            keep_norms.append(tensor)
            setattr(struct, name, tensor.data_ptr())
    encoder = _Encoder(structs, len(stages), hidden, heads, intermediate, norm_eps, MODES[mode])
    return NativeEncoder(keep_layers, keep_norms, structs, encoder, source)


def run_encoder(
    lib: ctypes.CDLL,
    state: NativeEncoder,
    hidden_states: torch.Tensor,
    key_bias: torch.Tensor | None,
    position_bias: torch.Tensor | None,
    isa: int,
) -> torch.Tensor:
    """All layers of the encoder on float32 ``[batch, seq, hidden]``; returns a new tensor."""
    out = hidden_states.float().contiguous().clone()
    batch, seq, _ = out.shape
    code = lib.te_encoder_forward(
        ctypes.byref(state.encoder),
        out.data_ptr(),
        batch,
        seq,
        key_bias.data_ptr() if key_bias is not None else None,
        position_bias.data_ptr() if position_bias is not None else None,
        isa,
        torch.get_num_threads(),
    )
    if code:
        raise KernelLibraryError(
            f"te_encoder_forward failed with code {code}: {_ERRORS.get(code, 'unknown error')}"
        )
    return out


@dataclass
class NativeEmbeddings:
    """Word / token-type / position tables (float32, or int8 with a float32 scale per row) and the
    LayerNorm after their sum, for ``te_embed``."""

    tensors: list[torch.Tensor]
    word: _Table
    token_type: _Table | None
    position: _Table
    norm_weight: torch.Tensor
    norm_bias: torch.Tensor
    norm_eps: float
    dim: int
    source: tuple


def native_table(values: torch.Tensor, scale: torch.Tensor | None, keep: list[torch.Tensor]) -> _Table:
    """A ``te_table`` over float32 rows, or int8 rows with one scale per row (kept alive in ``keep``)."""
    values = values.contiguous()
    keep.append(values)
    if scale is not None:
        scale = scale.reshape(-1).float().contiguous()
        keep.append(scale)
    return _Table(values.data_ptr(), scale.data_ptr() if scale is not None else None, values.shape[0])


def run_embed(
    lib: ctypes.CDLL,
    state: NativeEmbeddings,
    input_ids: torch.Tensor,
    token_type_ids: torch.Tensor | None,
    position_ids: torch.Tensor,
    isa: int,
) -> torch.Tensor:
    """LayerNorm(word + token type + position embeddings) as float32 ``[batch, seq, dim]``."""
    ids = input_ids.contiguous()
    types = token_type_ids.expand_as(ids).contiguous() if token_type_ids is not None else None
    positions = position_ids.expand_as(ids).contiguous()
    out = torch.empty(*ids.shape, state.dim, dtype=torch.float32)
    code = lib.te_embed(
        ctypes.byref(state.word),
        ctypes.byref(state.token_type) if types is not None else None,
        ctypes.byref(state.position),
        ids.data_ptr(),
        types.data_ptr() if types is not None else None,
        positions.data_ptr(),
        ids.numel(),
        state.dim,
        state.norm_weight.data_ptr(),
        state.norm_bias.data_ptr(),
        state.norm_eps,
        out.data_ptr(),
        isa,
    )
    if code:
        raise IndexError("a token, token-type or position id is outside its embedding table")
    return out


def run_mean_pool(
    lib: ctypes.CDLL, hidden: torch.Tensor, mask: torch.Tensor, normalize: bool
) -> torch.Tensor:
    """Masked mean over tokens of float32 ``[batch, seq, dim]`` (``mask`` int64), optionally L2-normalized."""
    batch, seq, dim = hidden.shape
    mask = mask.to(torch.int64).contiguous()
    out = torch.empty(batch, dim, dtype=torch.float32)
    lib.te_mean_pool(hidden.data_ptr(), mask.data_ptr(), batch, seq, dim, int(normalize), out.data_ptr())
    return out
