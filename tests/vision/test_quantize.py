"""Ternary image encoders: prepare / freeze / encode / save / load, and ternary 1x1 convolutions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from ternembed import TernaryConfig, freeze, prepare, ternary_layers
from ternembed.config import ConfigError
from ternembed.io.errors import CorruptCheckpointError, ManifestMismatchError
from ternembed.kernels.reference import ternary_linear_reference
from ternembed.vision.config import vision_ternary_config
from ternembed.vision.conv import PackedTernaryConv1x1, TernaryConv1x1
from ternembed.vision.io import ImageCheckpointError, load_image_encoder, save_image_encoder
from ternembed.vision.quantize import freeze_image_encoder, prepare_image_encoder
from tests.vision.conftest import tiny_encoder

IMAGES = np.random.default_rng(1).integers(0, 256, (4, 30, 26), dtype=np.uint8)


@pytest.mark.parametrize("kind", ["vit", "clip-vision", "clip", "dinov2"])
def test_prepare_freeze_save_load_round_trip(kind: str, tmp_path) -> None:
    encoder = tiny_encoder(kind, pooling="mean")
    config = vision_ternary_config(embeddings="int8")
    prepare(encoder, config)
    assert len(ternary_layers(encoder)) == 12  # 2 blocks x (q, k, v, out, fc1, fc2)
    fake_quant = encoder.encode(IMAGES)
    freeze(encoder, config)
    packed = encoder.encode(IMAGES)
    np.testing.assert_allclose(packed, fake_quant, atol=1e-5)
    save_image_encoder(encoder, tmp_path / "packed", config)
    loaded = load_image_encoder(tmp_path / "packed")
    assert loaded.pooling == "mean"
    np.testing.assert_allclose(loaded.encode(IMAGES), packed, atol=1e-6)


def test_full_precision_folder_round_trip(tmp_path) -> None:
    encoder = tiny_encoder("vit")
    save_image_encoder(encoder, tmp_path / "fp32")
    np.testing.assert_allclose(
        load_image_encoder(tmp_path / "fp32").encode(IMAGES), encoder.encode(IMAGES), atol=1e-6
    )


def test_packed_file_is_smaller(tmp_path) -> None:
    encoder = tiny_encoder("vit")
    save_image_encoder(encoder, tmp_path / "fp32")
    config = vision_ternary_config()
    freeze(prepare(encoder, config), config)
    save_image_encoder(encoder, tmp_path / "packed", config)
    assert (tmp_path / "packed/model.safetensors").stat().st_size < (
        tmp_path / "fp32/model.safetensors"
    ).stat().st_size


def test_saving_ternary_needs_config_and_freeze(tmp_path) -> None:
    encoder = tiny_encoder("vit")
    config = vision_ternary_config()
    prepare(encoder, config)
    with pytest.raises(ImageCheckpointError, match="freeze"):
        save_image_encoder(encoder, tmp_path / "a", config)
    freeze(encoder, config)
    with pytest.raises(ImageCheckpointError, match="TernaryConfig"):
        save_image_encoder(encoder, tmp_path / "a")


def test_load_errors(tmp_path) -> None:
    with pytest.raises(ImageCheckpointError, match="not an image-encoder folder"):
        load_image_encoder(tmp_path)
    encoder = tiny_encoder("vit")
    save_image_encoder(encoder, tmp_path / "m")
    weights = tmp_path / "m/model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CorruptCheckpointError, match="truncated or corrupt"):
        load_image_encoder(tmp_path / "m")


def test_config_disagreeing_with_weights(tmp_path) -> None:
    encoder = tiny_encoder("vit")
    config = vision_ternary_config()
    freeze(prepare(encoder, config), config)
    save_image_encoder(encoder, tmp_path / "m", config)
    manifest_path = tmp_path / "m/ternary_config.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["layers"][0]["storage"] = "base3"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ManifestMismatchError, match="different saves"):
        load_image_encoder(tmp_path / "m")


class TinyConvNet(nn.Module):
    """Pointwise and 3x3 convolutions, a batch norm and a linear classifier."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.expand = nn.Conv2d(6, 20, kernel_size=1, bias=False)
        self.spatial = nn.Conv2d(20, 20, kernel_size=3, padding=1, groups=20)
        self.project = nn.Conv2d(20, 7, kernel_size=1)
        self.norm = nn.BatchNorm2d(7)
        self.fc = nn.Linear(7, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.project(torch.relu(self.spatial(self.expand(x)))))
        return self.fc(x.mean((2, 3)))


@pytest.mark.parametrize(
    ("granularity", "activations", "storage"),
    [
        ("row", "float", "2bit"),
        ("tensor", "float", "base3"),
        ("group:8", "float", "2bit"),
        ("row", "int8", "2bit"),
    ],
)
def test_packed_conv_reference_equals_fake_quant(granularity: str, activations: str, storage: str) -> None:
    conv = nn.Conv2d(13, 9, kernel_size=1)
    config = TernaryConfig(granularity=granularity, activations=activations, storage=storage)
    ternary = TernaryConv1x1.from_conv(conv, config)
    packed = PackedTernaryConv1x1.from_ternary_conv(ternary, storage)
    x = torch.randn(3, 13, 5, 4)
    with torch.no_grad():
        expected = ternary(x)
        reference = ternary_linear_reference(x.movedim(1, -1), packed).movedim(-1, 1)
        torch.testing.assert_close(reference, expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(packed(x), expected, atol=1e-4, rtol=1e-4)


def test_conv_gradient_is_straight_through() -> None:
    layer = TernaryConv1x1.from_conv(nn.Conv2d(8, 4, kernel_size=1), TernaryConfig())
    layer(torch.randn(2, 8, 3, 3)).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_prepare_image_encoder_swaps_pointwise_convs_and_linear() -> None:
    model = TinyConvNet().eval()
    x = torch.randn(2, 6, 5, 5)
    config = TernaryConfig(include=("expand", "project", "fc", "spatial"), exclude=())
    prepare_image_encoder(model, config)
    assert isinstance(model.expand, TernaryConv1x1) and isinstance(model.project, TernaryConv1x1)
    assert type(model.spatial) is nn.Conv2d  # a 3x3 depthwise convolution is not a channel map
    with torch.no_grad():
        fake_quant = model(x)
        freeze_image_encoder(model, config)
        assert isinstance(model.project, PackedTernaryConv1x1)
        torch.testing.assert_close(model(x), fake_quant, atol=1e-5, rtol=1e-5)


def test_prepare_image_encoder_without_matches() -> None:
    with pytest.raises(ConfigError, match="match no"):
        prepare_image_encoder(TinyConvNet(), TernaryConfig(include=("nothing",)))


def test_quantize_image_model_from_a_hugging_face_folder(tmp_path) -> None:
    from ternembed.vision.models import is_image_model, load_image_model, quantize_image_model

    encoder = tiny_encoder("dinov2")
    encoder.model.save_pretrained(tmp_path / "hf")
    assert is_image_model(tmp_path / "hf") and not is_image_model(tmp_path)
    folder = quantize_image_model(tmp_path / "hf", tmp_path / "packed", pooling="mean")
    expected = load_image_model(tmp_path / "hf", pooling="mean")
    config = vision_ternary_config()
    freeze(prepare(expected, config), config)
    np.testing.assert_allclose(load_image_model(folder).encode(IMAGES), expected.encode(IMAGES), atol=1e-5)


def test_batch_norm_recalibration_matches_the_data_statistics() -> None:
    from ternembed.vision.calibration import recalibrate_batch_norm

    model = TinyConvNet().eval()
    config = TernaryConfig(include=("expand", "project"), exclude=())
    prepare_image_encoder(model, config)
    x = torch.randn(10, 6, 5, 5)
    assert recalibrate_batch_norm(model, x, batch_size=5) == 1
    assert not model.training and not model.norm.training
    with torch.no_grad():
        features = model.project(torch.relu(model.spatial(model.expand(x))))
    torch.testing.assert_close(model.norm.running_mean, features.mean((0, 2, 3)), atol=1e-5, rtol=1e-5)


def test_model_saved_without_pooling_layer_loads(tmp_path) -> None:
    import transformers

    from ternembed.vision import ImageEncoder
    from tests.tiny_models import TINY

    config = transformers.ViTConfig(image_size=32, patch_size=8, **TINY)
    encoder = ImageEncoder(transformers.ViTModel(config, add_pooling_layer=False).eval())
    save_image_encoder(encoder, tmp_path / "m")
    loaded = load_image_encoder(tmp_path / "m")
    assert loaded.model.pooler is None
    np.testing.assert_allclose(loaded.encode(IMAGES), encoder.encode(IMAGES), atol=1e-6)
