"""prepare/freeze on tiny random encoders, and packed forward == fake-quant forward for every mode."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from ternembed import TernaryConfig, freeze, prepare, ternary_layers
from ternembed.config import ConfigError
from ternembed.kernels.reference import unpacked_weight
from ternembed.nn import PackedTernaryLinear, QuantizedEmbedding, TernaryLinear
from ternembed.quantize import NonFiniteWeightError
from tests.tiny_models import tiny_text_model, tiny_vision_model

MODEL_KINDS = ["bert", "mpnet", "xlm-roberta", "vit", "clip-vision"]


def build(kind: str) -> nn.Module:
    model = tiny_vision_model(kind) if kind in ("vit", "clip-vision") else tiny_text_model(kind)
    return model.eval()


def model_input(kind: str) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    if kind in ("vit", "clip-vision"):
        return {"pixel_values": torch.randn(2, 3, 32, 32, generator=generator)}
    return {
        "input_ids": torch.randint(5, 1000, (2, 9), generator=generator),
        "attention_mask": torch.ones(2, 9, dtype=torch.long),
    }


def linear_names(model: nn.Module) -> list[str]:
    return [name for name, module in model.named_modules() if type(module) is nn.Linear]


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_prepare_swaps_encoder_linears_only(kind):
    model = build(kind)
    config = TernaryConfig()
    expected = [name for name in linear_names(model) if name != "pooler.dense"]
    untouched = [name for name in linear_names(model) if name == "pooler.dense"]
    assert len(expected) == 12  # 2 layers x (q, k, v, attention out, ffn in, ffn out)
    norms_before = {name: m.weight.dtype for name, m in model.named_modules() if isinstance(m, nn.LayerNorm)}
    embedding_names = [name for name, m in model.named_modules() if type(m) is nn.Embedding]
    prepare(model, config)
    assert sorted(ternary_layers(model)) == sorted(expected)
    assert all(type(model.get_submodule(name)) is TernaryLinear for name in expected)
    assert all(type(model.get_submodule(name)) is nn.Linear for name in untouched)
    for name, dtype in norms_before.items():
        norm = model.get_submodule(name)
        assert type(norm) is nn.LayerNorm and norm.weight.dtype == dtype == torch.float32
    for name in embedding_names:
        assert isinstance(model.get_submodule(name), QuantizedEmbedding)


def test_fp32_embeddings_stay_nn_embedding():
    model = prepare(build("bert"), TernaryConfig(embeddings="fp32"))
    assert type(model.embeddings.word_embeddings) is nn.Embedding


def test_prepare_works_on_a_whole_sentence_transformer(tiny_st_dir):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(tiny_st_dir, device="cpu")
    prepare(model, TernaryConfig())
    assert len(ternary_layers(model)) == 12  # 2 layers x (q, k, v, attention out, ffn in, ffn out)
    assert model.encode(["a sentence"]).shape == (1, 32)


def test_patterns_matching_nothing_are_a_clear_error():
    with pytest.raises(ConfigError, match=r"match no nn\.Linear layer; this model has \d+ linear layers"):
        prepare(build("bert"), TernaryConfig(include=("*decoder.*",)))


def test_exclude_everything_is_a_clear_error():
    with pytest.raises(ConfigError, match="match no nn.Linear"):
        prepare(build("bert"), TernaryConfig(exclude=("*",)))


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf")])
def test_non_finite_weights_are_a_clear_error(bad_value):
    model = build("bert")
    with torch.no_grad():
        model.encoder.layer[1].intermediate.dense.weight[3, 2] = bad_value
    with pytest.raises(NonFiniteWeightError, match=r"encoder\.layer\.1\.intermediate\.dense.*1 NaN/inf"):
        prepare(model, TernaryConfig())


def test_freeze_without_prepare_is_a_clear_error():
    with pytest.raises(ConfigError, match="call prepare"):
        freeze(build("bert"), TernaryConfig())


MODES = list(
    itertools.product(
        ["tensor", "row", "group:8"], ["paper", "absmean", "optimal"], ["2bit", "base3"], ["float", "int8"]
    )
)


@pytest.mark.parametrize(("granularity", "threshold", "storage", "activations"), MODES)
def test_packed_layer_equals_fake_quant_layer(granularity, threshold, storage, activations):
    torch.manual_seed(0)
    config = TernaryConfig(
        granularity=granularity, threshold=threshold, storage=storage, activations=activations
    )
    layer = TernaryLinear.from_linear(nn.Linear(37, 19), config)
    packed = PackedTernaryLinear.from_ternary_linear(layer, storage)
    x = torch.randn(3, 5, 37)
    with torch.no_grad():
        assert torch.allclose(unpacked_weight(packed), layer.ternary_weight(), atol=0, rtol=0)
        assert torch.allclose(packed(x), layer(x), atol=1e-6, rtol=1e-5)
    assert packed.weight_packed.dtype == torch.uint8


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize(("storage", "activations"), [("2bit", "float"), ("base3", "int8")])
def test_packed_model_equals_fake_quant_model(kind, storage, activations):
    config = TernaryConfig(
        granularity="group:16", storage=storage, activations=activations, embeddings="int4"
    )
    model = prepare(build(kind), config)
    inputs = model_input(kind)
    with torch.no_grad():
        fake = model(**inputs).last_hidden_state
        freeze(model, config)
        packed = model(**inputs).last_hidden_state
    assert all(isinstance(m, PackedTernaryLinear) for m in ternary_layers(model).values())
    assert torch.allclose(packed, fake, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("precision", "tolerance"), [("fp16", 1e-3), ("int8", 1 / 127), ("int4", 1 / 7)])
@pytest.mark.parametrize("dim", [31, 32, 33])
def test_quantized_embedding_error_is_bounded(precision, tolerance, dim):
    torch.manual_seed(0)
    table = nn.Embedding(50, dim, padding_idx=0)
    quantized = QuantizedEmbedding.from_embedding(table, precision)
    ids = torch.tensor([[0, 3, 49], [7, 7, 1]])
    expected = table(ids)
    got = quantized(ids)
    assert got.shape == expected.shape and got.dtype == torch.float32
    row_max = table.weight.abs().amax(dim=1)[ids].unsqueeze(-1)
    assert ((got - expected).abs() <= row_max * tolerance / 2 + 1e-6).all()
    assert torch.equal(quantized.weight[ids], got)


def test_set_activations_switches_every_packed_layer_and_refuses_bad_modes():
    from ternembed.quantize import set_activations

    model = tiny_text_model("bert").eval()
    freeze(prepare(model, TernaryConfig()), TernaryConfig())
    set_activations(model, "int8")
    layers = [m for m in model.modules() if isinstance(m, PackedTernaryLinear)]
    assert layers and all(layer.activations == "int8" and layer.kernel_state is None for layer in layers)
    with pytest.raises(ConfigError, match="activations"):
        set_activations(model, "int4")
    with pytest.raises(ConfigError, match="no PackedTernaryLinear"):
        set_activations(tiny_text_model("bert"), "int8")
