"""ternembed.load and `ternembed quantize` reach image encoders as well as text models."""

from __future__ import annotations

import numpy as np

import ternembed
from ternembed.cli.main import main
from ternembed.vision import ImageEncoder
from tests.tiny_models import tiny_vision_model


def test_quantize_cli_and_load_handle_an_image_encoder(tmp_path, capsys):
    source = tmp_path / "vit"
    tiny_vision_model("vit").save_pretrained(source)
    out = tmp_path / "vit-ternary"

    assert main(["quantize", str(source), "--out", str(out)]) == 0
    assert "bits" in capsys.readouterr().out

    encoder = ternembed.load(out)
    assert isinstance(encoder, ImageEncoder)
    images = np.random.default_rng(0).integers(0, 256, size=(3, 32, 32), dtype=np.uint8)
    assert encoder.encode(images).shape == (3, 32)


def test_load_returns_a_sentence_transformer_for_text_folders(tmp_path, tiny_st_dir):
    out = tmp_path / "text-ternary"
    assert main(["quantize", tiny_st_dir, "--out", str(out), "--no-fidelity"]) == 0
    model = ternembed.load(out)
    assert isinstance(model, ternembed.TernarySentenceTransformer)
    assert model.encode(["hello"]).shape == (1, 32)
