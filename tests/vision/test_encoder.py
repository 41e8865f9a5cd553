"""ImageEncoder.encode: shapes, pooling, image modes and sizes, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ternembed.vision import ImageEncoder, ImageInputError, UnsupportedVisionModelError
from tests.vision.conftest import tiny_encoder


def random_images(count: int, shape: tuple[int, ...] = (28, 28), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, *shape), dtype=np.uint8)


def test_encode_shape_and_empty(any_encoder: ImageEncoder) -> None:
    embeddings = any_encoder.encode(random_images(3), batch_size=2)
    assert embeddings.shape == (3, 32) and embeddings.dtype == np.float32
    assert any_encoder.encode([]).shape == (0, 32)
    assert any_encoder.encode(np.zeros((0, 28, 28), np.uint8)).shape == (0, 32)


def test_batch_size_does_not_change_embeddings() -> None:
    encoder = tiny_encoder("vit")
    images = random_images(5)
    np.testing.assert_allclose(
        encoder.encode(images, batch_size=2), encoder.encode(images, batch_size=5), atol=1e-5
    )


@pytest.mark.parametrize("pooling", ["cls", "mean", "pooler"])
def test_pooling_matches_backbone_outputs(pooling: str) -> None:
    encoder = tiny_encoder("clip-vision", pooling=pooling)
    images = random_images(2)
    pixels = encoder.preprocess(images)
    with torch.no_grad():
        outputs = encoder.model(pixel_values=pixels)
    expected = {
        "cls": outputs.last_hidden_state[:, 0],
        "mean": outputs.last_hidden_state.mean(1),
        "pooler": outputs.pooler_output,
    }[pooling]
    np.testing.assert_allclose(encoder.encode(images), expected.numpy(), atol=1e-5)


def test_unknown_pooling_is_refused() -> None:
    with pytest.raises(ValueError, match="pooling must be one of"):
        tiny_encoder("vit", pooling="max")


def test_normalize_embeddings() -> None:
    embeddings = tiny_encoder("vit").encode(random_images(3), normalize_embeddings=True)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_grayscale_is_converted_to_rgb() -> None:
    encoder = tiny_encoder("vit")
    gray = random_images(2)
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    from_gray = encoder.encode(gray)
    np.testing.assert_allclose(from_gray, encoder.encode(rgb), atol=1e-5)
    np.testing.assert_allclose(from_gray, encoder.encode([Image.fromarray(g) for g in gray]), atol=1e-5)
    rgba = [Image.fromarray(g).convert("RGBA") for g in gray]
    np.testing.assert_allclose(from_gray, encoder.encode(rgba), atol=1e-5)


def test_mixed_sizes_are_resized() -> None:
    encoder = tiny_encoder("vit")
    images = [Image.fromarray(random_images(1, (h, w))[0]) for h, w in [(28, 28), (64, 40), (32, 32)]]
    embeddings = encoder.encode(images)
    assert embeddings.shape == (3, 32) and np.isfinite(embeddings).all()


def test_image_files_folder_and_npy(tmp_path) -> None:
    from ternembed.vision import load_images

    encoder = tiny_encoder("vit")
    images = random_images(2)
    for i, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
    np.save(tmp_path / "batch.npy", images)
    expected = encoder.encode(images)
    np.testing.assert_allclose(
        encoder.encode([str(tmp_path / "0.png"), tmp_path / "1.png"]), expected, atol=1e-5
    )
    np.testing.assert_allclose(encoder.encode(load_images(tmp_path)), expected, atol=1e-5)
    np.testing.assert_allclose(encoder.encode(load_images(tmp_path / "batch.npy")), expected, atol=1e-5)


def test_unreadable_image_file_is_named(tmp_path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png at all")
    with pytest.raises(ImageInputError, match="broken.png"):
        tiny_encoder("vit").encode([str(broken)])
    from ternembed.vision import load_images

    with pytest.raises(ImageInputError, match="broken.png"):
        load_images(tmp_path)


def test_missing_image_file_is_named(tmp_path) -> None:
    with pytest.raises(ImageInputError, match="nowhere.jpg"):
        tiny_encoder("vit").encode([str(tmp_path / "nowhere.jpg")])


def test_text_given_to_image_model() -> None:
    with pytest.raises(ImageInputError, match="image encoder"):
        tiny_encoder("clip-vision").encode(["a photo of a cat", "a dog"])


def test_wrong_array_shapes_and_dtypes() -> None:
    encoder = tiny_encoder("vit")
    with pytest.raises(ImageInputError, match="uint8"):
        encoder.encode(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ImageInputError, match="shape"):
        encoder.encode(np.zeros((28, 28), np.uint8))


def test_text_model_is_refused() -> None:
    from tests.tiny_models import tiny_text_model

    with pytest.raises(UnsupportedVisionModelError, match="BertModel"):
        ImageEncoder(tiny_text_model("bert"))


def test_query_and_document_aliases_and_probe_images() -> None:
    from ternembed.vision import probe_images

    encoder = tiny_encoder("vit")
    probes = probe_images()
    assert probes.shape == (4, 32, 32, 3) and np.array_equal(probes, probe_images())
    np.testing.assert_allclose(encoder.encode_query(probes), encoder.encode_document(probes), atol=1e-6)
