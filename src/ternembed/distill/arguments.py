"""DistillArguments: every setting of a distillation run, validated and serialisable."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from ternembed.distill.losses import LossSpec
from ternembed.errors import TernembedError
from ternembed.matryoshka import DEFAULT_MATRYOSHKA_DIMS

LrSchedule = Literal["constant", "linear", "cosine"]
LR_SCHEDULES: tuple[str, ...] = ("constant", "linear", "cosine")
TeacherMatch = Literal["text", "id"]
TEACHER_MATCHES: tuple[str, ...] = ("text", "id")

TRAINING_FIELDS = (
    "teacher", "data", "text_field", "max_texts", "epochs", "max_steps", "batch_size", "grad_accum",
    "max_seq_length", "lr", "lr_schedule", "warmup_ratio", "weight_decay", "max_grad_norm", "loss",
    "rkd_temperature", "bank_size", "seed", "bf16", "eval_texts", "ema_decay", "matryoshka_dims",
    "teacher_embeddings", "teacher_match", "progressive", "learn_scales",
)  # fmt: skip
"""Fields that must not change when a run is resumed (they change what is trained)."""


class ArgumentError(TernembedError, ValueError):
    """A distillation setting is out of range."""


@dataclass(frozen=True)
class DistillArguments:
    """Settings of one run (the ternarization itself is a separate :class:`~ternembed.TernaryConfig`).

    Attributes:
        teacher: model name or folder of the full-precision teacher.
        out: output folder of the frozen student.
        data: corpus paths; empty means the default general corpus (built once and cached).
        text_field: column/key of the text in .jsonl, .csv, .parquet and datasets.
        max_texts: use a seeded sample of at most this many texts (default corpus: 50,000).
        epochs: passes over the training texts (ignored when ``max_steps`` is set).
        max_steps: optimizer steps to run; wraps around the corpus as needed.
        batch_size: items per forward pass on each process.
        grad_accum: forward passes per optimizer step.
        max_seq_length: training texts are truncated to this many tokens (the student keeps the teacher's
            own maximum sequence length).
        lr: peak learning rate of AdamW.
        lr_schedule: after linear warm-up: ``constant``, ``linear`` decay to 0 or ``cosine`` decay to 0.
        warmup_ratio: share of the steps spent warming up.
        weight_decay: AdamW weight decay on the latent weights.
        max_grad_norm: gradient clipping norm (0 turns it off).
        loss: loss spec, e.g. ``"hidden:1,cos:1"`` (see :mod:`ternembed.distill.losses`).
        rkd_temperature: temperature of the relational terms (``rkd``, ``bank`` and ``contrast``).
        bank_size: training texts whose teacher embeddings form the ``bank`` term's bank.
        eval_every: held-out evaluation every N steps (0: only at the end).
        eval_texts: size of the held-out slice kept out of training (at most a tenth of the corpus).
        save_every: checkpoint every N steps (0: only at the end).
        seed: seed of sampling, held-out split and batch order.
        bf16: bf16 autocast for student and teacher.
        overwrite: replace an existing output folder.
        resume: continue an interrupted run from its last checkpoint.
        threads: CPU threads per process (default: the idle cores, split between local processes).
        progress: show a progress bar.
        ema_decay: decay of an exponential moving average of the latent weights that replaces them at the
            end (0 turns it off; see :mod:`ternembed.distill.averaging`).
        progressive: fraction of the steps over which the student goes from its latent weights to fully
            ternary weights (``latent + mix * (ternary - latent)``, mix rising linearly to 1); 0 is fully
            ternary from the first step.
        learn_scales: train a factor on every ternary scale of the linear layers (starting at 1), folded
            into the saved scales.
        keep_latent: also save the trainable student's latent weights (``training/`` in ``out``), which
            :func:`ternembed.distill.soup.soup` averages across runs.
        matryoshka_dims: leading dimension counts of the ``matryoshka`` loss term.
        teacher_embeddings: a vectors file from ``ternembed embed`` (float32) whose stored teacher
            embeddings replace the teacher's forward pass; only pooled-embedding loss terms then work.
        teacher_match: how training texts find their stored vector: by ``text`` (the payload's text field)
            or by ``id`` (the ``--data`` records' ids).
    """

    teacher: str
    out: str
    data: tuple[str, ...] = ()
    text_field: str = "text"
    max_texts: int | None = None
    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 32
    grad_accum: int = 1
    max_seq_length: int = 128
    lr: float = 5e-4
    lr_schedule: LrSchedule = "linear"
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    loss: str = "hidden:1,cos:1"
    rkd_temperature: float = 0.05
    bank_size: int = 4096
    eval_every: int = 0
    eval_texts: int = 256
    save_every: int = 200
    seed: int = 0
    bf16: bool = False
    overwrite: bool = False
    resume: bool = False
    threads: int | None = None
    progress: bool = True
    keep_latent: bool = False
    ema_decay: float = 0.0
    progressive: float = 0.0
    learn_scales: bool = False
    matryoshka_dims: tuple[int, ...] = DEFAULT_MATRYOSHKA_DIMS
    teacher_embeddings: str | None = None
    teacher_match: TeacherMatch = "text"

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", tuple(str(p) for p in self.data))
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "grad_accum": self.grad_accum,
                    "max_seq_length": self.max_seq_length, "bank_size": self.bank_size}  # fmt: skip
        for name, value in positive.items():
            if value <= 0:
                raise ArgumentError(f"{name} must be a positive integer, got {value}")
        for name in ("max_steps", "max_texts", "threads"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ArgumentError(f"{name} must be a positive integer when given, got {value}")
        for name in ("eval_every", "save_every", "eval_texts"):
            if getattr(self, name) < 0:
                raise ArgumentError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ArgumentError(f"lr must be positive, got {self.lr}")
        if not 0 <= self.warmup_ratio < 1:
            raise ArgumentError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ArgumentError(f"lr_schedule must be one of {list(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if not 0 <= self.ema_decay < 1:
            raise ArgumentError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0 <= self.progressive < 1:
            raise ArgumentError(f"progressive must be in [0, 1), got {self.progressive}")
        if not self.rkd_temperature > 0:
            raise ArgumentError(f"rkd_temperature must be positive, got {self.rkd_temperature}")
        spec = LossSpec.parse(self.loss)
        object.__setattr__(self, "matryoshka_dims", tuple(int(d) for d in self.matryoshka_dims))
        if not self.matryoshka_dims or min(self.matryoshka_dims) <= 0:
            raise ArgumentError(
                f"matryoshka_dims must be positive integers, got {list(self.matryoshka_dims)}"
            )
        if self.teacher_match not in TEACHER_MATCHES:
            raise ArgumentError(
                f"teacher_match must be one of {list(TEACHER_MATCHES)}, got {self.teacher_match!r}"
            )
        if self.teacher_embeddings is not None and spec.token_level_terms:
            raise ArgumentError(
                f"--teacher-embeddings holds pooled embeddings only, but the loss terms "
                f"{', '.join(spec.token_level_terms)} need the teacher's hidden states; use embedding-level "
                "terms such as --loss cos:1,mse:1 (choose from mse, cos, rkd, bank, matryoshka)"
            )

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["data"] = list(self.data)
        data["matryoshka_dims"] = list(self.matryoshka_dims)
        return data

    def training_changes(self, saved: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Training-relevant fields that differ from a checkpoint's saved arguments: {name: (saved, now)}."""
        now = self.to_dict()
        defaults = {  # fields newer than the checkpoint, as to_dict writes them
            f.name: list(f.default) if isinstance(f.default, tuple) else f.default
            for f in dataclasses.fields(self)
        }
        before = {name: saved.get(name, defaults[name]) for name in TRAINING_FIELDS}
        return {name: (before[name], now[name]) for name in TRAINING_FIELDS if before[name] != now[name]}
