"""Damaged or incomplete model folders are refused at load with an error naming the problem."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

import ternembed
from ternembed import TernaryConfig


@pytest.fixture(scope="module")
def saved(tiny_st_dir, tmp_path_factory):
    config = TernaryConfig(storage="2bit", embeddings="int8")
    model = ternembed.ternarize_model(tiny_st_dir, config)
    return ternembed.save(model, tmp_path_factory.mktemp("hostile") / "model", config)


def _damaged_copy(saved, tmp_path, damage):
    folder = tmp_path / "copy"
    shutil.copytree(saved, folder)
    weights = folder / "model.safetensors"
    tensors = load_file(str(weights))
    damage(tensors)
    save_file(tensors, str(weights), metadata={"format": "pt"})
    return folder


def _first(tensors, suffix):
    return next(name for name in sorted(tensors) if name.endswith(suffix))


def test_a_nan_scale_is_refused(saved, tmp_path):
    def damage(tensors):
        tensors[_first(tensors, "weight_scale")].view(-1)[0] = float("nan")

    with pytest.raises((ValueError, OSError), match="model.safetensors") as caught:
        ternembed.load(_damaged_copy(saved, tmp_path, damage))
    assert "finite" in str(caught.value) or "nan" in str(caught.value).lower()


def test_an_invalid_two_bit_code_is_refused(saved, tmp_path):
    def damage(tensors):
        tensors[_first(tensors, "weight_packed")].view(-1)[0] = 0xFF  # four fields of 0b11

    with pytest.raises((ValueError, OSError), match="model.safetensors"):
        ternembed.load(_damaged_copy(saved, tmp_path, damage))


def test_a_folder_without_tokenizer_files_is_refused(saved, tmp_path):
    folder = tmp_path / "no-tokenizer"
    shutil.copytree(saved, folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    with pytest.raises((ValueError, OSError), match="tokenizer"):
        ternembed.load(folder)


def test_a_missing_local_name_fails_at_once_without_the_hub(tmp_path, monkeypatch):
    from ternembed.models import ModelNotFoundError, resolve_model

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelNotFoundError, match="no such folder"):
        resolve_model("all-MiniLM-L6-v3")
    with pytest.raises(ModelNotFoundError, match="no such folder"):
        resolve_model("./not-here")


def test_intact_folder_still_loads_and_embeds_finitely(saved):
    vectors = ternembed.load(saved).encode(["a cat sat on the mat"], convert_to_tensor=True)
    assert torch.isfinite(vectors).all()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("modules.json", "[]", "must list the model's modules"),
     ("modules.json", '[{"idx": 0, "name": "0", "path": ""}]', "module 0 needs a str 'type'"),
     ("1_Pooling/config.json", "{}", "embedding_dimension"),
     ("1_Pooling/config.json", "[1]", "must hold a JSON object, found list"),
     ("sentence_bert_config.json", '{"max_seq_length": 256, "architectures": 3}', "does not know: architectures"),
     ("sentence_bert_config.json", '{"max_seq_length": -1}', "max_seq_length must be a positive integer"),
     ("tokenizer.json", "{}", "tokenizer.json is not a usable tokenizer"),
     ("tokenizer_config.json", "null", "must hold a JSON object, found NoneType")],
)  # fmt: skip
def test_damaged_module_files_are_refused_naming_the_file(saved, tmp_path, name, content, message):
    from ternembed.io.errors import CorruptCheckpointError

    folder = tmp_path / "copy"
    shutil.copytree(saved, folder)
    (folder / name).write_text(content)
    with pytest.raises(CorruptCheckpointError, match=message) as caught:
        ternembed.load(folder)
    assert name.split("/")[-1] in str(caught.value)
