"""Loss spec parsing and the behaviour of each loss term."""

from __future__ import annotations

import pytest
import torch

from ternembed.distill.encoders import EncoderOutput
from ternembed.distill.losses import LOSS_NAMES, LossSpec, LossSpecError, distillation_loss, masked_mse


def _output(seed: int, mask: torch.Tensor, requires_grad: bool = False) -> EncoderOutput:
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randn(4, 5, 8, generator=generator, requires_grad=requires_grad)
    layers = tuple(tokens * (i + 1) + torch.randn(4, 5, 8, generator=generator) for i in range(3)) + (tokens,)
    pooled = (tokens * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
    return EncoderOutput(pooled, tokens, mask, layers)


MASK = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]])
BANK = torch.nn.functional.normalize(torch.randn(6, 8, generator=torch.Generator().manual_seed(9)), dim=-1)


def test_parse_weights_and_round_trip():
    spec = LossSpec.parse("hidden:1, cos:0.5,rkd")
    assert spec.weights == (("hidden", 1.0), ("cos", 0.5), ("rkd", 1.0))
    assert str(spec) == "hidden:1,cos:0.5,rkd:1"
    assert LossSpec.parse("layers:1").needs_hidden_states and not spec.needs_hidden_states
    assert LossSpec.parse("cos:1,bank:0.5").needs_bank and not spec.needs_bank


@pytest.mark.parametrize("spec", ["", "bogus:1", "cos:x", "cos:-1", "cos:1,cos:2", "cos:0"])
def test_bad_specs_raise(spec):
    with pytest.raises(LossSpecError):
        LossSpec.parse(spec)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_each_loss_is_zero_for_identical_outputs_and_positive_otherwise(name):
    spec = LossSpec.parse(name)
    teacher = _output(0, MASK)
    same, _ = distillation_loss(spec, teacher, teacher, bank=BANK, matryoshka_dims=(2, 4))
    assert float(same) == pytest.approx(0.0, abs=1e-6)
    student = _output(1, MASK, requires_grad=True)
    different, terms = distillation_loss(spec, student, teacher, bank=BANK, matryoshka_dims=(2, 4))
    assert float(different) > 0 and set(terms) == {name}
    different.backward()


def test_bank_term_needs_a_bank_and_ignores_the_embedding_scale():
    teacher, student = _output(0, MASK), _output(1, MASK)
    with pytest.raises(ValueError, match="bank"):
        distillation_loss(LossSpec.parse("bank"), student, teacher)
    scaled = _output(0, MASK)
    scaled.sentence_embedding = teacher.sentence_embedding * 3.0
    loss, _ = distillation_loss(LossSpec.parse("bank"), scaled, teacher, bank=BANK)
    assert float(loss) == pytest.approx(0.0, abs=1e-6)


def test_hidden_ignores_padding_but_paper_does_not():
    teacher = _output(0, MASK)
    student = _output(0, MASK)
    student.token_embeddings = teacher.token_embeddings + (1 - MASK).unsqueeze(-1) * 3.0
    hidden, _ = distillation_loss(LossSpec.parse("hidden"), student, teacher)
    paper, _ = distillation_loss(LossSpec.parse("paper"), student, teacher)
    assert float(hidden) == 0.0 and float(paper) > 1.0


def test_weights_add_up():
    teacher, student = _output(0, MASK), _output(1, MASK)
    total, terms = distillation_loss(LossSpec.parse("hidden:2,cos:0.5"), student, teacher)
    assert float(total) == pytest.approx(2 * terms["hidden"] + 0.5 * terms["cos"], rel=1e-6)


def test_masked_mse_matches_a_manual_mean():
    a, b = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    manual = torch.cat(
        [(a[0, :2] - b[0, :2]).pow(2).flatten(), (a[1, :1] - b[1, :1]).pow(2).flatten()]
    ).mean()
    assert float(masked_mse(a, b, mask)) == pytest.approx(float(manual), rel=1e-6)


def test_contrast_term_scores_the_student_against_the_batch_of_teacher_embeddings():
    """A student that swaps two texts' embeddings points away from the teacher's in-batch ranking."""
    teacher = _output(0, MASK)
    swapped = _output(0, MASK)
    swapped.sentence_embedding = teacher.sentence_embedding.detach()[[1, 0, 2, 3]].clone().requires_grad_(True)
    loss, _ = distillation_loss(LossSpec.parse("contrast"), swapped, teacher)
    loss.backward()
    assert float(loss) > 0.1
    assert swapped.sentence_embedding.grad[:2].abs().sum() > 0
