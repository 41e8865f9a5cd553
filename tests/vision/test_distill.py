"""The image side of the distillation seam: ImageBatchEncoder feeds every loss of ternembed.distill."""

from __future__ import annotations

import copy

import numpy as np
import torch

from ternembed import prepare
from ternembed.distill import LossSpec, distillation_loss
from ternembed.vision.config import vision_ternary_config
from ternembed.vision.distill import ImageBatchEncoder
from tests.vision.conftest import tiny_encoder


def test_image_batches_train_a_ternary_student() -> None:
    teacher = tiny_encoder("vit")
    student = prepare(copy.deepcopy(teacher), vision_ternary_config())
    encoder = ImageBatchEncoder(teacher)
    images = list(np.random.default_rng(0).integers(0, 256, (6, 28, 28), dtype=np.uint8))
    assert encoder.lengths(images) == [1] * 6
    batch = encoder.collate(images)
    assert batch["pixel_values"].shape == (6, 3, 32, 32)
    spec = LossSpec.parse("paper:1,hidden:1,cos:1,rkd:1,layers:1")
    with torch.no_grad():
        teacher_output = encoder.encode(teacher, batch, hidden_states=True)
    student_output = encoder.encode(student, batch, hidden_states=True)
    assert student_output.attention_mask.shape == (6, 17) and len(student_output.hidden_states) == 3
    loss, terms = distillation_loss(spec, student_output, teacher_output)
    assert set(terms) == {"paper", "hidden", "cos", "rkd", "layers"} and torch.isfinite(loss)
    loss.backward()
    query = student.model.layers[0].attention.q_proj
    assert query.weight.grad is not None and query.weight.grad.abs().sum() > 0


def test_save_image_student(tmp_path) -> None:
    from ternembed.vision.distill import save_image_student
    from ternembed.vision.io import load_image_encoder

    config = vision_ternary_config()
    student = prepare(tiny_encoder("vit"), config)
    save_image_student(student, tmp_path / "out", config, {"arguments": {"teacher": "tiny-vit"}, "step": 1})
    images = np.random.default_rng(0).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    np.testing.assert_allclose(
        load_image_encoder(tmp_path / "out").encode(images), student.encode(images), atol=1e-5
    )
    assert (tmp_path / "out/ternary_config.json").is_file()
