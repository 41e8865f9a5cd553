"""An image encoder indexes a corpus of image paths and is recognised by its probe-image fingerprint."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from ternembed.cli.main import main
from tests.tiny_models import tiny_vision_model


def test_image_encoder_indexes_image_paths_and_finds_an_image_by_itself(tmp_path, capsys):
    model_dir = tmp_path / "vit"
    tiny_vision_model("vit").save_pretrained(model_dir)
    rng = np.random.default_rng(0)
    corpus = tmp_path / "images.jsonl"
    with corpus.open("w") as lines:
        for i in range(12):
            path = tmp_path / f"img{i}.png"
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(path)
            lines.write(json.dumps({"id": f"img{i}", "text": str(path)}) + "\n")

    index_dir = tmp_path / "idx"
    assert (
        main(
            [
                "index",
                str(model_dir),
                "--corpus",
                str(corpus),
                "--out",
                str(index_dir),
                "--backend",
                "faiss-flat",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["search", str(index_dir), str(tmp_path / "img7.png"), "-k", "3", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert [hit["id"] for hit in results][0] == "img7"
    assert results[0]["score"] > 0.999
