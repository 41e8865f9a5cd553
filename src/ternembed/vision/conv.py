"""Ternary 1x1 convolutions: a pointwise convolution is a linear map over channels.

``TernaryConv1x1`` (train time, straight-through) and ``PackedTernaryConv1x1`` (inference) reuse the
linear layers' rules, packing and kernel entry point: the weight ``[out, in, 1, 1]`` is handled as
``[out, in]`` and the input is moved channels-last, so one source of truth covers both layer kinds.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import torch
from torch import nn

from ternembed.config import ConfigError, TernaryConfig
from ternembed.errors import InvalidArgumentError
from ternembed.nn import PackedTernaryLinear
from ternembed.ternary import fake_quantize_activations_int8, fake_ternarize


def is_pointwise_conv(module: nn.Module) -> bool:
    """True for a 1x1, stride-1, ungrouped, unpadded, undilated ``nn.Conv2d`` (or subclass with no extra padding)."""
    if not isinstance(module, nn.Conv2d) or isinstance(module, TernaryConv1x1):
        return False
    static_padding = getattr(module, "static_padding", None)
    return (
        module.kernel_size == (1, 1)
        and module.stride == (1, 1)
        and module.groups == 1
        and module.dilation == (1, 1)
        and module.padding in ((0, 0), "valid")
        and (
            static_padding is None
            or not list(static_padding.parameters())
            and type(static_padding).__name__ == "Identity"
        )
    )


class TernaryConv1x1(nn.Conv2d):
    """A pointwise ``nn.Conv2d`` whose forward uses the ternarized weight (straight-through backward)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        bias: bool = True,
        *,
        group_size: int | None = 0,
        threshold: str = "optimal",
        activations: str = "float",
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size=1, bias=bias)
        self.group_size = group_size
        self.threshold = threshold
        self.activations = activations
        self.ternary_mix = 1.0

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, config: TernaryConfig) -> TernaryConv1x1:
        """A TernaryConv1x1 sharing ``conv``'s weight and bias (not copied)."""
        layer = cls(
            conv.in_channels,
            conv.out_channels,
            bias=conv.bias is not None,
            group_size=config.group_size,
            threshold=config.threshold,
            activations=config.activations,
        )
        layer.weight = conv.weight
        if conv.bias is not None:
            layer.bias = conv.bias
        return layer

    def ternary_weight(self) -> torch.Tensor:
        """The fake-quantized weight ``[out, in, 1, 1]``."""
        matrix = self.weight.reshape(self.out_channels, self.in_channels)
        return fake_ternarize(matrix, self.group_size, self.threshold, mix=self.ternary_mix).reshape(
            self.weight.shape
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activations == "int8":
            x = fake_quantize_activations_int8(x.movedim(1, -1)).movedim(-1, 1)
        return nn.functional.conv2d(x, self.ternary_weight(), self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, bias={self.bias is not None}, group_size={self.group_size}, "
            f"threshold={self.threshold}, activations={self.activations}"
        )


class PackedTernaryConv1x1(PackedTernaryLinear):
    """Packed pointwise convolution: a :class:`PackedTernaryLinear` applied over the channel axis."""

    @classmethod
    def from_ternary_conv(cls, layer: TernaryConv1x1, storage: str) -> PackedTernaryConv1x1:
        return cls.from_weight(
            layer.weight.detach().reshape(layer.out_channels, layer.in_channels),
            layer.bias,
            storage=storage,
            group_size=layer.group_size,
            threshold=layer.threshold,
            activations=layer.activations,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child_name = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child_name, module)


def select_pointwise_convs(model: nn.Module, config: TernaryConfig) -> list[str]:
    """Names of the pointwise convolutions that match ``config.include`` and not ``config.exclude``."""
    return [
        name
        for name, module in model.named_modules()
        if is_pointwise_conv(module)
        and any(fnmatchcase(name, p) for p in config.include)
        and not any(fnmatchcase(name, p) for p in config.exclude)
    ]


def prepare_pointwise_convs(model: nn.Module, config: TernaryConfig) -> list[str]:
    """Swap matching pointwise convolutions for :class:`TernaryConv1x1` in place; return their names."""
    names = select_pointwise_convs(model, config)
    if not names:
        raise ConfigError(
            f"include={list(config.include)} / exclude={list(config.exclude)} match no 1x1 convolution in "
            f"{type(model).__name__}"
        )
    for name in names:
        conv = model.get_submodule(name)
        if not torch.isfinite(conv.weight).all():
            raise InvalidArgumentError(
                f"convolution {name!r} holds NaN/inf weights; fix the checkpoint before ternarizing"
            )
        _set_submodule(model, name, TernaryConv1x1.from_conv(conv, config))
    return names


def freeze_pointwise_convs(model: nn.Module, config: TernaryConfig) -> list[str]:
    """Replace every :class:`TernaryConv1x1` with a :class:`PackedTernaryConv1x1` in place; return their names."""
    names = [name for name, module in model.named_modules() if isinstance(module, TernaryConv1x1)]
    for name in names:
        _set_submodule(
            model, name, PackedTernaryConv1x1.from_ternary_conv(model.get_submodule(name), config.storage)
        )
    return names
