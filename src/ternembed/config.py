"""TernaryConfig: what to ternarize and how, in one serialisable place."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ternembed.errors import TernembedError

ThresholdRule = Literal["paper", "absmean", "optimal"]
StorageFormat = Literal["2bit", "base3"]
EmbeddingPrecision = Literal["fp32", "fp16", "int8", "int4"]
ActivationMode = Literal["float", "int8"]

THRESHOLD_RULES: tuple[str, ...] = ("paper", "absmean", "optimal")
STORAGE_FORMATS: tuple[str, ...] = ("2bit", "base3")
EMBEDDING_PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "int8", "int4")
ACTIVATION_MODES: tuple[str, ...] = ("float", "int8")

CONFIG_FILENAME = "ternary_config.json"
FORMAT_VERSION = 1


class ConfigError(TernembedError, ValueError):
    """A TernaryConfig field holds a value we cannot use."""


def parse_granularity(granularity: str) -> int | None:
    """Return the group size for a granularity string: None for 'tensor', 0 for 'row', N for 'group:N'."""
    if granularity == "tensor":
        return None
    if granularity == "row":
        return 0
    if granularity.startswith("group:"):
        size_text = granularity.split(":", 1)[1]
        if size_text.isdigit() and int(size_text) > 0:
            return int(size_text)
    raise ConfigError(
        f"granularity must be 'tensor', 'row' or 'group:N' with N a positive integer, got {granularity!r}"
    )


@dataclass(frozen=True)
class TernaryConfig:
    """How a model is ternarized.

    Attributes:
        include: glob patterns over module names (``encoder.layer.0.attention.self.query``); an
            ``nn.Linear`` is ternarized when it matches one of them (``*layers.*`` covers encoders
            without an ``encoder`` module, e.g. transformers 5's ViT ``layers.0.attention.q_proj``) ...
        exclude: ... and none of these. Embeddings, norms, biases and heads stay full precision.
        granularity: one scale per ``"tensor"`` (the paper), per output ``"row"``, or per
            ``"group:N"`` of N input columns within a row.
        threshold: ``"paper"`` (non-zero where ``|w| >= mean|W|``, value ``+-2 mean|W|``),
            ``"absmean"`` (BitNet b1.58: non-zero where ``|w| >= mean|W|/2``, value ``+-mean|W|``), or
            ``"optimal"`` (the paper's threshold with the least-squares scale ``mean(|w| | non-zero)``).
        storage: packed layout on disk: ``"2bit"`` (4 codes per byte) or ``"base3"`` (5 per byte).
        embeddings: precision of the embedding tables (token, position, type).
        activations: ``"float"`` keeps activations exact; ``"int8"`` quantizes them per token (W1.58A8).
    """

    include: tuple[str, ...] = ("*encoder.*", "*layers.*")
    exclude: tuple[str, ...] = ("*pooler*", "*head*", "*classifier*")
    granularity: str = "row"
    threshold: ThresholdRule = "optimal"
    storage: StorageFormat = "2bit"
    embeddings: EmbeddingPrecision = "int8"
    activations: ActivationMode = "float"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "include", tuple(self.include))
        object.__setattr__(self, "exclude", tuple(self.exclude))
        parse_granularity(self.granularity)
        _check_choice("threshold", self.threshold, THRESHOLD_RULES)
        _check_choice("storage", self.storage, STORAGE_FORMATS)
        _check_choice("embeddings", self.embeddings, EMBEDDING_PRECISIONS)
        _check_choice("activations", self.activations, ACTIVATION_MODES)
        if not self.include:
            raise ConfigError("include must hold at least one pattern, e.g. '*encoder.*'")

    @property
    def group_size(self) -> int | None:
        """None for per-tensor scales, 0 for per-row, N for groups of N input columns."""
        return parse_granularity(self.granularity)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["include"] = list(self.include)
        data["exclude"] = list(self.exclude)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TernaryConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown TernaryConfig fields {unknown}; known fields are {sorted(known)}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {list(choices)}, got {value!r}")
