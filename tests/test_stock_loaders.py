"""Stock loaders on a packed folder, each in a fresh interpreter: refused without ``import ternembed``,
identical to ``ternembed.load`` and on the fused C encoder with it; old folders still load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import ternembed
from ternembed.io.stock_loaders import (
    MODEL_TYPE_PREFIX,
    base_model_type,
    register_architecture,
    ternembed_model_type,
)
from ternembed.kernels import native_library
from ternembed.nn import PackedTernaryLinear
from ternembed.nn.fused_encoder import FusedEncoderForward

TEXTS = ["A man is playing a guitar.", "The weather is lovely today.", "Stocks fell sharply on Monday."]


@pytest.fixture(scope="module")
def folder(tiny_st_dir, tmp_path_factory) -> Path:
    config = ternembed.TernaryConfig(embeddings="int8")
    model = ternembed.ternarize_model(tiny_st_dir, config)
    return ternembed.save(model, tmp_path_factory.mktemp("stock") / "model", config, base_model="tiny-bert")


def run_fresh(script: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``script`` in a new interpreter (nothing imported yet) with this test's import path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_the_folder_names_a_ternembed_architecture(folder):
    hf_config = json.loads((folder / "config.json").read_text())
    assert hf_config["model_type"] == "ternembed-bert"
    assert hf_config["quantization_config"]["quant_method"] == "ternembed"


def test_model_type_names_round_trip():
    assert ternembed_model_type("bert") == "ternembed-bert"
    assert ternembed_model_type("ternembed-bert") == "ternembed-bert"
    assert base_model_type("ternembed-mpnet") == "mpnet"
    assert base_model_type("bert") == "bert"
    assert register_architecture("no-such-architecture") is None


def test_without_the_import_stock_loaders_refuse_the_folder(folder):
    result = run_fresh(
        """
        import json, sys
        from sentence_transformers import SentenceTransformer
        from transformers import AutoModel

        errors = {}
        for name, loader in (("st", SentenceTransformer), ("auto", AutoModel.from_pretrained)):
            try:
                loader(sys.argv[1])
                errors[name] = None
            except Exception as error:
                errors[name] = f"{type(error).__name__}: {error}"
        errors["ternembed_imported"] = "ternembed" in sys.modules
        print(json.dumps(errors))
        """,
        str(folder),
    )
    assert result.returncode == 0, result.stderr
    errors = json.loads(result.stdout.strip().splitlines()[-1])
    assert errors["ternembed_imported"] is False
    for name in ("st", "auto"):
        assert errors[name] is not None, f"{name} loaded a packed folder without ternembed"
        assert errors[name].startswith("ValueError") and "`ternembed-bert`" in errors[name]
    assert "Unknown quantization type" not in result.stderr


@pytest.mark.skipif(native_library() is None, reason="compiled kernel library not built")
def test_after_the_import_stock_loaders_match_ternembed_load_on_the_fused_path(folder, tmp_path):
    result = run_fresh(
        """
        import json, sys
        import numpy as np, torch
        import ternembed
        from sentence_transformers import SentenceTransformer
        from transformers import AutoModel, AutoTokenizer
        from ternembed.nn import PackedTernaryLinear
        from ternembed.nn.fused_encoder import FusedEncoderForward

        folder, out, texts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])

        def fused_ran(hf_model):
            forward = hf_model.encoder.__dict__.get("forward")
            return isinstance(forward, FusedEncoderForward) and forward.state is not None

        st = SentenceTransformer(folder, device="cpu")
        np.save(f"{out}/st.npy", st.encode(texts))
        hf_model = AutoModel.from_pretrained(folder)
        batch = AutoTokenizer.from_pretrained(folder)(texts, padding=True, return_tensors="pt")
        with torch.inference_mode():
            np.save(f"{out}/auto.npy", hf_model(**batch).last_hidden_state.numpy())
        print(json.dumps({
            "st_fused": fused_ran(st[0].auto_model),
            "auto_fused": fused_ran(hf_model),
            "auto_class": type(hf_model).__name__,
            "packed": isinstance(hf_model.encoder.layer[0].attention.self.query, PackedTernaryLinear),
        }))
        """,
        str(folder),
        str(tmp_path),
        json.dumps(TEXTS),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {
        "st_fused": True,
        "auto_fused": True,
        "auto_class": "TernembedBertModel",
        "packed": True,
    }
    assert "Unknown quantization type" not in result.stderr

    reference = ternembed.load(folder, activations="float")  # the mode stock loaders run: as saved
    expected = reference.encode(TEXTS)
    assert np.abs(np.load(tmp_path / "st.npy") - expected).max() < 1e-5
    batch = reference.tokenize(TEXTS)
    with torch.inference_mode():
        hidden = (
            reference[0]
            .auto_model(
                input_ids=batch["input_ids"],
                attention_mask=batch["attention_mask"],
                token_type_ids=batch["token_type_ids"],
            )
            .last_hidden_state
        )
    assert np.abs(np.load(tmp_path / "auto.npy") - hidden.numpy()).max() < 1e-5


def test_a_folder_with_the_plain_model_type_still_loads(folder, tmp_path):
    """Folders saved before the ``ternembed-<type>`` model type (``"model_type": "bert"``)."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(folder, old)
    config_path = old / "config.json"
    hf_config = json.loads(config_path.read_text())
    hf_config["model_type"] = hf_config["model_type"].removeprefix(MODEL_TYPE_PREFIX)
    config_path.write_text(json.dumps(hf_config))
    loaded = ternembed.load(old)
    assert type(loaded[0].auto_model).__name__ == "BertModel"
    assert isinstance(loaded[0].auto_model.encoder.layer[0].attention.self.query, PackedTernaryLinear)
    np.testing.assert_allclose(loaded.encode(TEXTS), ternembed.load(folder).encode(TEXTS), atol=1e-6, rtol=0)


def test_a_stock_resave_keeps_the_ternembed_architecture(folder, tmp_path):
    ternembed.load(folder).save(str(tmp_path / "stock"))
    assert json.loads((tmp_path / "stock" / "config.json").read_text())["model_type"] == "ternembed-bert"
    assert torch.allclose(
        ternembed.TernarySentenceTransformer(str(tmp_path / "stock")).encode(TEXTS, convert_to_tensor=True),
        ternembed.load(folder, activations="float").encode(TEXTS, convert_to_tensor=True),
        atol=1e-6,
    )


def test_the_stock_loader_benchmark_runs_on_a_tiny_model(folder, tmp_path):
    script = Path(__file__).parents[1] / "benchmarks" / "stock_loader_speed.py"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = tmp_path / "bench"
    result = subprocess.run(
        [sys.executable, str(script), str(folder), "--out", str(out), "--repeats", "1", "--shapes", "3x4:2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "stock_loader_speed.json").read_text())
    assert data["stock_fused"] is True and data["ternembed_fused"] is True
    assert len(data["rows"]) == 1 and data["rows"][0]["max_abs_diff"] < 1e-5
    assert "stock / ternembed.load" in (out / "stock_loader_speed.md").read_text()


def test_an_mpnet_folder_loads_with_stock_loaders_after_the_import(minilm_dir, tmp_path):
    """In process (ternembed imported): a second architecture, ``ternembed-mpnet``."""
    import transformers
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    from tests.tiny_models import tiny_text_model

    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    hf_dir = tmp_path / "hf"
    tiny_text_model("mpnet", vocab_size=tokenizer.vocab_size).save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=48)
    source = SentenceTransformer(modules=[transformer, Pooling(32, "mean"), Normalize()], device="cpu")
    source.save(str(tmp_path / "st"))
    config = ternembed.TernaryConfig()
    out = ternembed.save(ternembed.ternarize_model(str(tmp_path / "st"), config), tmp_path / "packed", config)
    assert json.loads((out / "config.json").read_text())["model_type"] == "ternembed-mpnet"
    hf_model = transformers.AutoModel.from_pretrained(str(out))
    assert type(hf_model).__name__ == "TernembedMPNetModel"
    assert isinstance(hf_model.encoder.layer[0].attention.attn.q, PackedTernaryLinear)
    assert isinstance(hf_model.encoder.__dict__.get("forward"), FusedEncoderForward)
    stock = SentenceTransformer(str(out), device="cpu")
    np.testing.assert_allclose(
        stock.encode(TEXTS), ternembed.load(out, activations="float").encode(TEXTS), atol=1e-5, rtol=0
    )
