"""Distillation losses between teacher and student :class:`EncoderOutput` s, combinable by weight.

A loss spec such as ``"hidden:1,cos:1,rkd:0.5"`` names terms and their weights:

- ``paper``: MSE on the last hidden states averaged over every position, padding included (the
  reference code of arXiv 2411.15438).
- ``hidden``: MSE on the last hidden states over real tokens only.
- ``mse``: squared distance between the normalized pooled sentence embeddings.
- ``cos``: ``1 - cosine`` between the pooled sentence embeddings.
- ``rkd``: relational KL divergence between teacher and student in-batch neighbour distributions
  (softmax of cosine similarities / temperature, self-similarity left out).
- ``layers``: masked MSE averaged over every intermediate layer's hidden states.
- ``bank``: KL divergence between teacher and student distributions of each text over a fixed bank
  of teacher embeddings (softmax of cosine similarities / temperature): the student learns to rank
  the teacher's documents the way the teacher does, not only to point the same way.
- ``contrast``: contrastive distillation with in-batch teacher negatives: each text's student
  embedding is scored against the teacher embeddings of the whole batch (its own as the positive,
  the others as negatives), and the softmax of those scores is matched (KL) to the teacher's own
  softmax over the same batch, so the student keeps the teacher's margins between near neighbours.
- ``matryoshka``: ``1 - cosine`` between student and teacher embeddings truncated to each of a few
  leading dimension counts (default 64, 128, 256; those below the model's own) and re-normalized,
  averaged: the first N dimensions stay a usable embedding on their own.

``mse``, ``cos``, ``rkd``, ``bank``, ``contrast`` and ``matryoshka`` read only the pooled embedding, so they work with
precomputed teacher embeddings; ``paper``, ``hidden`` and ``layers`` need the teacher's hidden states.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import torch
import torch.nn.functional as F

from ternembed.distill.encoders import EncoderOutput
from ternembed.errors import InvalidArgumentError, TernembedError
from ternembed.matryoshka import DEFAULT_MATRYOSHKA_DIMS, truncate_normalized, usable_dims

LossName = Literal["paper", "hidden", "mse", "cos", "rkd", "layers", "bank", "contrast", "matryoshka"]
LOSS_NAMES: tuple[str, ...] = get_args(LossName)
TOKEN_LEVEL_LOSSES: tuple[str, ...] = ("paper", "hidden", "layers")
"""Terms that read the teacher's hidden states, not only its pooled embedding."""


class LossSpecError(TernembedError, ValueError):
    """A ``--loss`` spec could not be parsed."""


@dataclass(frozen=True)
class LossSpec:
    """Weighted loss terms, e.g. ``{"hidden": 1.0, "cos": 1.0}``."""

    weights: tuple[tuple[str, float], ...]

    @classmethod
    def parse(cls, spec: str) -> LossSpec:
        """Parse ``"name:weight,name:weight"``; a bare ``name`` has weight 1."""
        weights: dict[str, float] = {}
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            name, _, weight_text = part.partition(":")
            if name not in LOSS_NAMES:
                raise LossSpecError(f"unknown loss {name!r} in {spec!r}; choose from {list(LOSS_NAMES)}")
            try:
                weight = float(weight_text) if weight_text else 1.0
            except ValueError as error:
                raise LossSpecError(f"loss weight {weight_text!r} in {spec!r} is not a number") from error
            if weight < 0 or name in weights:
                raise LossSpecError(f"loss {name!r} in {spec!r} is repeated or has a negative weight")
            if weight > 0:
                weights[name] = weight
        if not weights:
            raise LossSpecError(
                f"loss spec {spec!r} names no term with a positive weight, e.g. 'hidden:1,cos:1'"
            )
        return cls(tuple(weights.items()))

    def __str__(self) -> str:
        return ",".join(f"{name}:{weight:g}" for name, weight in self.weights)

    @property
    def needs_hidden_states(self) -> bool:
        """True when a term reads the intermediate layers (``output_hidden_states`` must be on)."""
        return any(name == "layers" for name, _ in self.weights)

    @property
    def token_level_terms(self) -> tuple[str, ...]:
        """Terms that need the teacher's hidden states (precomputed embeddings cannot provide them)."""
        return tuple(name for name, _ in self.weights if name in TOKEN_LEVEL_LOSSES)

    @property
    def needs_bank(self) -> bool:
        """True when a term ranks a bank of teacher embeddings (the trainer must build one)."""
        return any(name == "bank" for name, _ in self.weights)


def distillation_loss(
    spec: LossSpec,
    student: EncoderOutput,
    teacher: EncoderOutput,
    rkd_temperature: float = 0.05,
    bank: torch.Tensor | None = None,
    matryoshka_dims: tuple[int, ...] = DEFAULT_MATRYOSHKA_DIMS,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted sum of the spec's terms and each unweighted term's value (for logging).

    ``bank``: normalized teacher embeddings ``[n, dim]``, needed by the ``bank`` term.
    ``matryoshka_dims``: leading dimension counts of the ``matryoshka`` term.
    """
    terms = {
        name: _term(name, student, teacher, rkd_temperature, bank, matryoshka_dims)
        for name, _ in spec.weights
    }
    total = sum(weight * terms[name] for name, weight in spec.weights)
    return total, {name: float(value.detach()) for name, value in terms.items()}


def _term(
    name: str,
    student: EncoderOutput,
    teacher: EncoderOutput,
    temperature: float,
    bank: torch.Tensor | None,
    matryoshka_dims: tuple[int, ...],
) -> torch.Tensor:
    if name == "paper":
        return F.mse_loss(student.token_embeddings.float(), teacher.token_embeddings.float())
    if name == "hidden":
        return masked_mse(student.token_embeddings, teacher.token_embeddings, student.attention_mask)
    if name == "layers":
        if student.hidden_states is None or teacher.hidden_states is None:
            raise InvalidArgumentError("the 'layers' loss needs hidden states from both models")
        pairs = list(zip(student.hidden_states[1:-1], teacher.hidden_states[1:-1], strict=True))
        if not pairs:
            raise InvalidArgumentError("the 'layers' loss needs a model with at least two layers")
        return sum(masked_mse(s, t, student.attention_mask) for s, t in pairs) / len(pairs)
    student_embedding = F.normalize(student.sentence_embedding.float(), dim=-1)
    teacher_embedding = F.normalize(teacher.sentence_embedding.float(), dim=-1)
    if name == "mse":
        return (student_embedding - teacher_embedding).pow(2).sum(-1).mean()
    if name == "cos":
        return 1.0 - (student_embedding * teacher_embedding).sum(-1).mean()
    if name == "rkd":
        return relational_kl(student_embedding, teacher_embedding, temperature)
    if name == "bank":
        if bank is None:
            raise InvalidArgumentError("the 'bank' loss needs a bank of teacher embeddings")
        return bank_kl(student_embedding, teacher_embedding, bank, temperature)
    if name == "contrast":
        return bank_kl(student_embedding, teacher_embedding, teacher_embedding, temperature)
    if name == "matryoshka":
        return matryoshka_cosine(student_embedding, teacher_embedding, matryoshka_dims)
    raise LossSpecError(f"unknown loss {name!r}; choose from {list(LOSS_NAMES)}")


def masked_mse(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean squared error over ``[batch, tokens, dim]`` positions where ``mask`` is 1."""
    squared = (student.float() - teacher.float()).pow(2)
    if mask is None:
        return squared.mean()
    weights = mask.to(squared.dtype).unsqueeze(-1)
    return (squared * weights).sum() / (weights.sum() * squared.shape[-1]).clamp(min=1.0)


def relational_kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) of in-batch neighbour distributions of normalized embeddings."""
    if student.shape[0] < 2:
        return student.new_zeros(())
    self_mask = torch.eye(student.shape[0], dtype=torch.bool, device=student.device)
    student_logits = (student @ student.T / temperature).masked_fill(self_mask, float("-inf"))
    teacher_logits = (teacher @ teacher.T / temperature).masked_fill(self_mask, float("-inf"))
    student_log_probs = F.log_softmax(student_logits, dim=-1).masked_fill(self_mask, 0.0)
    teacher_log_probs = F.log_softmax(teacher_logits, dim=-1).masked_fill(self_mask, 0.0)
    return (teacher_log_probs.exp() * (teacher_log_probs - student_log_probs)).sum(-1).mean()


def bank_kl(
    student: torch.Tensor, teacher: torch.Tensor, bank: torch.Tensor, temperature: float
) -> torch.Tensor:
    """KL(teacher || student) of each text's softmax over cosine similarities to ``bank`` (fixed, or the batch)."""
    bank = bank.to(student.dtype)
    teacher_log_probs = F.log_softmax(teacher @ bank.T / temperature, dim=-1)
    student_log_probs = F.log_softmax(student @ bank.T / temperature, dim=-1)
    return (teacher_log_probs.exp() * (teacher_log_probs - student_log_probs)).sum(-1).mean()


def matryoshka_cosine(student: torch.Tensor, teacher: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """Mean over ``dims`` below the embedding size of ``1 - cosine`` of the truncated, re-normalized embeddings."""
    kept = usable_dims(dims, student.shape[-1])
    if not kept:
        raise InvalidArgumentError(
            f"the 'matryoshka' loss has no dimension below the model's {student.shape[-1]} in {list(dims)}; "
            "pass smaller --matryoshka-dims"
        )
    losses = [
        1.0 - (truncate_normalized(student, dim) * truncate_normalized(teacher, dim)).sum(-1).mean()
        for dim in kept
    ]
    return sum(losses) / len(losses)
