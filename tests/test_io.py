"""Save/load of packed folders: round trips, stock loaders, encode behaviour and every bad input."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

import ternembed
from ternembed import TernaryConfig, TernarySentenceTransformer
from ternembed.io import (
    CorruptCheckpointError,
    FolderNotEmptyError,
    ManifestMismatchError,
    ModelFolderNotFoundError,
    NotATernaryModelError,
    UnsupportedArchitectureError,
)
from ternembed.nn import PackedTernaryLinear, QuantizedEmbedding

TEXTS = ["A man is playing a guitar.", "The weather is lovely today.", "Stocks fell sharply on Monday."]
EXPECTED_FILES = {
    "model.safetensors",
    "config.json",
    "ternary_config.json",
    "README.md",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "1_Pooling",
    "2_Normalize",
}


@pytest.fixture(scope="module")
def saved(tiny_st_dir, tmp_path_factory):
    """A tiny ternary model saved to a folder, and its in-memory embeddings of TEXTS."""
    config = TernaryConfig(granularity="group:16", embeddings="int8")
    model = ternembed.ternarize_model(tiny_st_dir, config)
    folder = ternembed.save(
        model,
        tmp_path_factory.mktemp("saved") / "model",
        config,
        base_model="tiny-bert",
        quality={"cosine": 0.5},
    )
    return folder, model.encode(TEXTS, convert_to_tensor=True)


@pytest.fixture
def copy_of(saved, tmp_path):
    """A fresh copy of the saved folder that a test may damage."""
    target = tmp_path / "copy"
    shutil.copytree(saved[0], target)
    return target


def edit_json(path: Path, change) -> None:  # noqa: ANN001
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_folder_layout(saved):
    folder, _ = saved
    assert {path.name for path in folder.iterdir()} >= EXPECTED_FILES
    hf_config = json.loads((folder / "config.json").read_text())
    manifest = json.loads((folder / "ternary_config.json").read_text())
    assert hf_config["quantization_config"]["quant_method"] == "ternembed"
    assert manifest["ternary_config"]["granularity"] == "group:16"
    assert len(manifest["layers"]) == 12
    first = manifest["layers"][0]
    assert first == {
        "name": "encoder.layer.0.attention.self.query",
        "shape": [32, 32],
        "storage": "2bit",
        "group_size": 16,
        "scale_shape": [32, 2],
        "bias": True,
        "activations": "float",
    }
    card = (folder / "README.md").read_text()
    assert "tiny-bert" in card and "| cosine | 0.5000 |" in card and "code bits per linear weight" in card
    assert not list(folder.parent.glob(".model.*")), "no staging folder may be left behind"


@pytest.mark.parametrize(
    "config",
    [
        TernaryConfig(),
        TernaryConfig(granularity="tensor", threshold="paper", storage="base3", embeddings="int4"),
        TernaryConfig(granularity="group:8", threshold="absmean", embeddings="fp16", activations="int8"),
    ],
    ids=["defaults", "tensor-paper-base3-int4", "group-absmean-fp16-a8"],
)
def test_round_trip_gives_identical_embeddings(tiny_st_dir, tmp_path, config):
    model = ternembed.ternarize_model(tiny_st_dir, config)
    expected = model.encode(TEXTS, convert_to_tensor=True)
    loaded = ternembed.load(ternembed.save(model, tmp_path / "m", config), activations=config.activations)
    assert isinstance(loaded, TernarySentenceTransformer)
    assert torch.allclose(loaded.encode(TEXTS, convert_to_tensor=True), expected, atol=1e-6, rtol=0)
    assert all(isinstance(m, PackedTernaryLinear) for m in ternembed.ternary_layers(loaded).values())


def test_stock_loaders_read_the_folder_after_import(saved):
    from transformers import AutoModel

    folder, expected = saved
    stock = SentenceTransformer(str(folder), device="cpu")
    assert torch.allclose(stock.encode(TEXTS, convert_to_tensor=True), expected, atol=1e-6, rtol=0)
    hf_model = AutoModel.from_pretrained(str(folder))
    assert isinstance(hf_model.encoder.layer[0].attention.self.query, PackedTernaryLinear)
    assert isinstance(hf_model.embeddings.word_embeddings, QuantizedEmbedding)


def test_resaving_a_loaded_model_round_trips(saved, tmp_path):
    folder, expected = saved
    loaded = ternembed.load(folder, activations="float")
    config = TernaryConfig.from_dict(
        json.loads((folder / "ternary_config.json").read_text())["ternary_config"]
    )
    again = ternembed.load(ternembed.save(loaded, tmp_path / "again", config), activations="float")
    assert torch.allclose(again.encode(TEXTS, convert_to_tensor=True), expected, atol=1e-6, rtol=0)


def test_a_stock_save_loads_with_sentence_transformers_but_not_with_ternembed_load(saved, tmp_path):
    folder, expected = saved
    ternembed.load(folder).save(str(tmp_path / "stock"))
    stock = SentenceTransformer(str(tmp_path / "stock"), device="cpu")
    assert torch.allclose(stock.encode(TEXTS, convert_to_tensor=True), expected, atol=1e-6, rtol=0)
    with pytest.raises(NotATernaryModelError, match="stock save.*re-save with ternembed.save"):
        ternembed.load(tmp_path / "stock")


def test_encode_behaves_like_sentence_transformers(saved):
    model = ternembed.load(saved[0])
    one_by_one = model.encode(TEXTS, batch_size=1)
    batched = model.encode(TEXTS, batch_size=16)
    assert np.allclose(one_by_one, batched, atol=1e-5)
    raw = model.encode(TEXTS, normalize_embeddings=False)
    assert np.allclose(np.linalg.norm(model.encode(TEXTS, normalize_embeddings=True), axis=1), 1, atol=1e-5)
    assert raw.shape == (3, 32)
    assert model.encode(TEXTS[0]).shape == (32,)


def test_encode_empty_list_keeps_the_width(saved):
    model = ternembed.load(saved[0])
    empty = model.encode([])
    assert isinstance(empty, np.ndarray) and empty.shape == (0, 32) and empty.dtype == np.float32
    tensor = model.encode([], convert_to_tensor=True)
    assert isinstance(tensor, torch.Tensor) and tensor.shape == (0, 32)
    assert model.encode([], precision="ubinary").shape == (0, 4)
    assert model.encode([], truncate_dim=8).shape == (0, 8)
    assert np.concatenate([empty, model.encode(TEXTS)]).shape == (3, 32)


def test_texts_longer_than_max_length_are_truncated(saved):
    model = ternembed.load(saved[0])
    assert model.max_seq_length == 48
    long_text = " ".join(["word"] * 500)
    tokens = model.tokenize([long_text])["input_ids"]
    assert tokens.shape[1] == 48
    assert np.allclose(model.encode(long_text), model.encode(long_text + " and many more words"), atol=1e-6)


def test_save_refuses_a_non_empty_folder_and_never_replaces_a_foreign_one(saved, tmp_path):
    from ternembed.io.output_folder import ForeignFolderError

    model = ternembed.load(saved[0])
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(FolderNotEmptyError, match="overwrite=True"):
        ternembed.save(model, target, TernaryConfig())
    with pytest.raises(ForeignFolderError, match="never replaced"):
        ternembed.save(model, target, TernaryConfig(), overwrite=True)
    assert (target / "notes.txt").read_text() == "keep me"
    ours = tmp_path / "ours"
    ternembed.save(model, ours, TernaryConfig())
    (ours / "stale.txt").write_text("old")
    ternembed.save(model, ours, TernaryConfig(), overwrite=True)
    assert not (ours / "stale.txt").exists() and (ours / "model.safetensors").is_file()


def test_a_failed_save_leaves_no_partial_folder(saved, tmp_path, monkeypatch):
    save_module = importlib.import_module("ternembed.io.save")

    model = ternembed.load(saved[0])

    def explode(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("disk full")

    monkeypatch.setattr(save_module, "write_model_card", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        ternembed.save(model, tmp_path / "new", TernaryConfig())
    old = tmp_path / "old"
    shutil.copytree(saved[0], old)
    with pytest.raises(RuntimeError, match="disk full"):
        ternembed.save(model, old, TernaryConfig(), overwrite=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["old"]
    assert ternembed.load(old).encode(TEXTS).shape == (3, 32)


def test_saving_an_unfrozen_or_float_model_is_an_error(tiny_st_dir, tmp_path):
    model = SentenceTransformer(tiny_st_dir, device="cpu")
    with pytest.raises(UnsupportedArchitectureError, match="prepare and ternembed.freeze"):
        ternembed.save(model, tmp_path / "a", TernaryConfig())
    ternembed.prepare(model, TernaryConfig())
    with pytest.raises(UnsupportedArchitectureError, match="call ternembed.freeze"):
        ternembed.save(model, tmp_path / "b", TernaryConfig())
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_missing_path(tmp_path):
    with pytest.raises(ModelFolderNotFoundError, match="does not exist"):
        ternembed.load(tmp_path / "nowhere")


def test_plain_hugging_face_folder(tiny_st_dir):
    with pytest.raises(NotATernaryModelError, match="plain Hugging Face.*ternembed quantize"):
        ternembed.load(tiny_st_dir)


def test_random_folder_and_file(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(NotATernaryModelError, match="not a ternembed model folder.*photo.jpg"):
        ternembed.load(tmp_path)
    with pytest.raises(NotATernaryModelError, match="is a file"):
        ternembed.load(tmp_path / "photo.jpg")


def test_folder_missing_its_weights(copy_of):
    (copy_of / "model.safetensors").unlink()
    with pytest.raises(NotATernaryModelError, match="no model.safetensors"):
        ternembed.load(copy_of)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_safetensors(copy_of, damage):
    path = copy_of / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(
        {"truncate": data[: len(data) // 2], "garbage": b"\x00" * 64 + data[64:], "empty": b""}[damage]
    )
    with pytest.raises(CorruptCheckpointError, match="truncated or corrupt"):
        ternembed.load(copy_of)
    with pytest.raises(CorruptCheckpointError):
        ternembed.io.inspect_folder(copy_of)


def test_folder_without_sentence_transformers_modules(copy_of):
    (copy_of / "modules.json").unlink()
    with pytest.raises(NotATernaryModelError, match="no modules.json"):
        ternembed.load(copy_of)
    assert ternembed.io.inspect_folder(copy_of).linear_bits_per_weight == 2.0


def test_corrupt_manifest_json(copy_of):
    (copy_of / "ternary_config.json").write_text("{not json")
    with pytest.raises(CorruptCheckpointError, match="ternary_config.json is not valid JSON"):
        ternembed.load(copy_of)


def test_manifest_missing_a_layer(copy_of):
    for name in ("ternary_config.json", "config.json"):
        edit_json(
            copy_of / name,
            lambda d: d["layers"].pop(0) if "layers" in d else d["quantization_config"]["layers"].pop(0),
        )
    with pytest.raises(ManifestMismatchError, match="packed tensors that ternary_config.json does not list"):
        ternembed.load(copy_of)


def test_manifest_listing_an_extra_layer(copy_of):
    def add_layer(data):  # noqa: ANN001, ANN202
        extra = dict(data["layers"][0], name="encoder.layer.9.attention.self.query")
        data["layers"].append(extra)

    edit_json(copy_of / "ternary_config.json", add_layer)
    with pytest.raises(ManifestMismatchError, match=r"lists tensor 'encoder\.layer\.9.*does not hold it"):
        ternembed.load(copy_of)


def test_manifest_with_a_wrong_shape(copy_of):
    edit_json(copy_of / "ternary_config.json", lambda d: d["layers"][2].update(shape=[32, 64]))
    with pytest.raises(
        ManifestMismatchError,
        match=r"value\.weight_packed' is U8 of shape \[32, 8\].*expects U8 of shape \[32, 16\]",
    ):
        ternembed.load(copy_of)


def test_config_json_disagreeing_with_manifest(copy_of):
    edit_json(
        copy_of / "config.json",
        lambda d: d["quantization_config"]["ternary_config"].update(threshold="paper"),
    )
    with pytest.raises(ManifestMismatchError, match="quantization_config and ternary_config.json"):
        ternembed.load(copy_of)


def test_unsupported_format_version(copy_of):
    edit_json(copy_of / "ternary_config.json", lambda d: d.update(format_version=99))
    with pytest.raises(ManifestMismatchError, match="format_version 99 is not supported"):
        ternembed.load(copy_of)


def test_unsupported_architecture(copy_of):
    edit_json(copy_of / "config.json", lambda d: d.update(model_type="my-private-encoder"))
    with pytest.raises(UnsupportedArchitectureError, match="'my-private-encoder' is not an architecture"):
        ternembed.load(copy_of)


def test_architecture_without_the_listed_module(copy_of):
    edit_json(copy_of / "config.json", lambda d: d.update(num_hidden_layers=1))
    with pytest.raises(UnsupportedArchitectureError, match=r"encoder\.layer\.1.*no such module"):
        ternembed.load(copy_of)


@pytest.mark.parametrize("storage", ["2bit", "base3"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (13, 17), (4, 20)])
@pytest.mark.parametrize("fill", [None, -1, 0, 1])
def test_info_counts_zero_codes_without_unpacking(storage, shape, fill):
    from ternembed.formats import get_format
    from ternembed.io.info import count_zero_codes

    if fill is None:
        codes = torch.randint(-1, 2, shape, generator=torch.Generator().manual_seed(0), dtype=torch.int8)
    else:
        codes = torch.full(shape, fill, dtype=torch.int8)
    packed = get_format(storage).pack(codes)
    assert count_zero_codes(packed, storage, codes.numel()) == int((codes == 0).sum())


@pytest.mark.parametrize("kind", ["mpnet", "xlm-roberta"])
def test_round_trip_of_other_text_architectures(kind, minilm_dir, tmp_path):
    """Nothing in save/load is BERT-specific: the manifest names modules, config.json builds the skeleton."""
    import transformers
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    from tests.tiny_models import tiny_text_model

    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    tiny_text_model(kind, vocab_size=tokenizer.vocab_size).save_pretrained(tmp_path / "hf")
    tokenizer.save_pretrained(tmp_path / "hf")
    transformer = Transformer(str(tmp_path / "hf"), max_seq_length=32)
    model = SentenceTransformer(modules=[transformer, Pooling(32, "mean"), Normalize()], device="cpu")
    config = TernaryConfig(embeddings="int4")
    ternembed.freeze(ternembed.prepare(model, config), config)
    expected = model.encode(TEXTS, convert_to_tensor=True)
    loaded = ternembed.load(ternembed.save(model, tmp_path / "packed", config), activations="float")
    assert len(ternembed.ternary_layers(loaded)) == 12
    assert torch.allclose(loaded.encode(TEXTS, convert_to_tensor=True), expected, atol=1e-6, rtol=0)
