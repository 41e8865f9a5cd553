"""`ternembed distill` on an image encoder: images from an .npy file, packed image student out."""

from __future__ import annotations

import numpy as np

import ternembed
from ternembed.cli.main import main
from ternembed.vision import ImageEncoder
from tests.tiny_models import tiny_vision_model


def test_distill_cli_trains_and_saves_a_tiny_vit_student(tmp_path):
    teacher_dir = tmp_path / "vit"
    tiny_vision_model("vit").save_pretrained(teacher_dir)
    images = np.random.default_rng(0).integers(0, 256, size=(48, 32, 32, 3), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    out = tmp_path / "student"

    code = main(
        ["distill", str(teacher_dir), "--out", str(out), "--data", str(tmp_path / "images.npy"),
         "--max-steps", "3", "--batch-size", "8", "--eval-texts", "8", "--threads", "1", "--no-progress"]
    )  # fmt: skip

    assert code == 0
    student = ternembed.load(out)
    assert isinstance(student, ImageEncoder)
    assert student.encode(images[:5]).shape == (5, 32)
    assert (out / "distill_config.json").is_file()
