"""The model kinds ``ternembed eval`` loads: a packed ternary folder beside its teacher, a real image encoder."""

from __future__ import annotations

import json

from ternembed.cli.main import main
from ternembed.eval.models import load_model, model_modalities
from ternembed.eval.report import summary
from ternembed.eval.runner import evaluate


def test_ternary_folder_beside_its_teacher(tiny_st_dir, tiny_wordnet, tmp_path, capsys):
    import ternembed

    config = ternembed.TernaryConfig()
    student = tmp_path / "ternary"
    ternembed.save(ternembed.ternarize_model(tiny_st_dir, config), student, config, base_model=tiny_st_dir)
    model = load_model(student)
    assert isinstance(model, ternembed.TernarySentenceTransformer)
    assert (
        main(
            ["eval", str(student), "--baseline", tiny_st_dir, "--tasks", "wordnet-pairs", "--quick", "--json"]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["size_ratio"] < 1.0
    assert 0.0 < data["fidelity"]["cosine_mean"] < 1.0
    assert data["tasks"][0]["kept_percent"] > 0


def test_vit_image_encoder_runs_fashion_mnist(tiny_fashion_mnist):
    from ternembed.vision import ImageEncoder
    from tests.tiny_models import tiny_vision_model

    encoder = ImageEncoder(tiny_vision_model("vit"))
    assert model_modalities(encoder) == {"image"}
    task = summary(evaluate(encoder, "", size="quick"))["tasks"][0]
    assert task["task"] == "fashion-mnist" and 0.0 <= task["metrics"]["knn_accuracy"] <= 1.0
