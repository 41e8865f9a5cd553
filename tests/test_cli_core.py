"""`ternembed quantize` and `ternembed info` through the CLI entry point, and the Done-when checks."""

from __future__ import annotations

import json

import pytest

import ternembed
from ternembed.cli.main import main
from ternembed.io.fidelity_check import builtin_sentences
from ternembed.models import load_sentence_transformer

INFO_KEYS = {
    "linear_bits_per_weight",
    "scale_bits_per_weight",
    "weights_bytes",
    "fp32_weights_bytes",
    "ratio",
    "zero_fraction",
    "scale_min",
    "scale_median",
    "scale_max",
    "embedding_precision",
    "layers",
}


def info_json(folder, capsys) -> dict:  # noqa: ANN001
    assert main(["info", str(folder), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_quantize_then_info(tiny_st_dir, tmp_path, capsys):
    out = tmp_path / "tiny-ternary"
    code = main(
        ["quantize", tiny_st_dir, "--out", str(out), "--granularity", "group:16", "--storage", "base3"]
        + ["--embeddings", "int4", "--threshold", "paper"]
    )
    captured = capsys.readouterr()
    printed = captured.out
    assert code == 0
    assert "not usable as is" in captured.err and "ternembed distill" in captured.err
    assert "code bits/weight    1.6" in printed
    assert "mean cosine to the original model (300 built-in sentences):" in printed
    info = info_json(out, capsys)
    assert set(info) >= INFO_KEYS
    assert len(info["layers"]) == 12
    assert info["ternary_config"]["threshold"] == "paper"
    assert info["embedding_precision"] == "int4"
    assert 1.6 <= info["linear_bits_per_weight"] < 1.61
    assert 0 < info["zero_fraction"] < 1
    assert info["weights_bytes"] == (out / "model.safetensors").stat().st_size
    assert info["ratio"] == pytest.approx(info["weights_bytes"] / info["fp32_weights_bytes"])
    assert main(["info", str(out)]) == 0
    assert "encoder.layer.1.output.dense" in capsys.readouterr().out
    assert ternembed.load(out).encode(["hi"]).shape == (1, 32)


def test_fp32_size_is_the_real_fp32_file_size(tiny_st_dir, tmp_path, capsys):
    """fp32_weights_bytes is exact: it equals the size of the float model's own model.safetensors."""
    from pathlib import Path

    out = tmp_path / "m"
    assert main(["quantize", tiny_st_dir, "--out", str(out), "--no-fidelity"]) == 0
    capsys.readouterr()
    assert (
        info_json(out, capsys)["fp32_weights_bytes"]
        == (Path(tiny_st_dir) / "model.safetensors").stat().st_size
    )


def test_quantize_errors_are_one_line(tiny_st_dir, tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "x").write_text("x")
    assert main(["quantize", tiny_st_dir, "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["quantize", tiny_st_dir, "--out", str(tmp_path / "n"), "--include", "*decoder*"]) == 2
    assert "match no nn.Linear layer" in capsys.readouterr().err
    assert main(["quantize", str(tmp_path / "missing-model"), "--out", str(tmp_path / "o")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["info", tiny_st_dir]) == 2
    assert "ternembed quantize" in capsys.readouterr().err


@pytest.mark.real_model
def test_real_minilm_round_trip_and_size(minilm_dir, tmp_path, capsys):
    """Done-when: saved -> loaded equals the in-memory fake-quant model (< 1e-5); size targets hold.

    base3 packs each flattened weight into ceil(n / 5) bytes, so its code bits per weight are 1.6 plus
    a tail of under one byte per layer (1.60002 on all-MiniLM-L6-v2).
    """
    texts = builtin_sentences(16)
    config = ternembed.TernaryConfig(storage="2bit", embeddings="int8")
    model = ternembed.prepare(load_sentence_transformer(minilm_dir), config)
    fake_quant = model.encode(texts, convert_to_tensor=True)
    ternembed.freeze(model, config)
    folder = ternembed.save(model, tmp_path / "2bit-int8", config)
    loaded = ternembed.load(folder, activations="float").encode(texts, convert_to_tensor=True)
    assert (loaded - fake_quant).abs().max().item() < 1e-5
    info = info_json(folder, capsys)
    assert info["linear_bits_per_weight"] <= 2.0
    assert info["ratio"] <= 0.20
    assert info["fp32_weights_bytes"] == pytest.approx(90_868_376, rel=1e-4)  # the real fp32 file

    config = ternembed.TernaryConfig(storage="base3", embeddings="int4")
    folder = ternembed.save(ternembed.ternarize_model(minilm_dir, config), tmp_path / "base3-int4", config)
    info = info_json(folder, capsys)
    assert info["linear_bits_per_weight"] <= 1.6 + 1e-4
    assert info["ratio"] <= 0.12
