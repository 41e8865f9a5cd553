"""The fused C encoder forward agrees with the module-by-module forward, and falls back where it must."""

from __future__ import annotations

import ctypes

import pytest
import torch

import ternembed
from ternembed.kernels import KernelLibraryError, native_library
from ternembed.kernels.native import ISA_NAMES, _Encoder, run_encoder
from ternembed.nn.fused_encoder import FUSED_ENV, FusedEncoderForward, enable_fused_encoder
from tests.tiny_models import tiny_text_model

pytestmark = pytest.mark.skipif(native_library() is None, reason="compiled kernel library not built")
BEST_ISA = ISA_NAMES[native_library()[1]] if native_library() else "portable"


def packed_model(kind: str, activations: str) -> torch.nn.Module:
    model = tiny_text_model(kind).eval()
    config = ternembed.TernaryConfig(activations=activations)
    ternembed.prepare(model, config)
    return ternembed.freeze(model, config)


def inputs(batch: int, seq: int, padded: bool) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(batch * 100 + seq)
    ids = torch.randint(5, 1000, (batch, seq), generator=generator)
    mask = torch.ones(batch, seq, dtype=torch.long)
    if padded and batch > 1:
        mask[0, seq // 2 :] = 0
        mask[-1, -1:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def run(
    model: torch.nn.Module, features: dict, monkeypatch, fused: bool, kernel: str = "auto"
) -> torch.Tensor:
    monkeypatch.setenv(FUSED_ENV, "1" if fused else "0")
    monkeypatch.setenv("TERNEMBED_KERNEL", kernel)
    with torch.inference_mode():
        return model(**features).last_hidden_state


@pytest.mark.parametrize("kind", ["bert", "mpnet"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 33), (2, 64)])
def test_fused_float_matches_module_by_module(kind, shape, monkeypatch):
    model = packed_model(kind, "float")
    features = inputs(*shape, padded=True)
    expected = run(model, features, monkeypatch, fused=False)
    got = run(model, features, monkeypatch, fused=True)
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", ["bert", "mpnet"])
def test_fused_int8_matches_module_by_module(kind, monkeypatch):
    # int8 activations: a last-bit difference upstream can flip one rounding, so compare loosely.
    model = packed_model(kind, "int8")
    features = inputs(4, 20, padded=True)
    expected = run(model, features, monkeypatch, fused=False)
    got = run(model, features, monkeypatch, fused=True)
    assert (got - expected).abs().max() < 5e-2
    cosine = torch.nn.functional.cosine_similarity(got.flatten(0, 1), expected.flatten(0, 1))
    assert cosine.min() > 0.999


@pytest.mark.parametrize(
    "isa", [name for name in ISA_NAMES if ISA_NAMES.index(name) <= ISA_NAMES.index(BEST_ISA)]
)
def test_every_instruction_set_agrees_with_the_reference(isa, monkeypatch):
    model = packed_model("bert", "float")
    features = inputs(2, 19, padded=True)
    expected = run(model, features, monkeypatch, fused=False, kernel="reference")
    got = run(model, features, monkeypatch, fused=True, kernel=isa)
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", ["bert", "mpnet"])
def test_the_fused_path_is_taken(kind, monkeypatch):
    model = packed_model(kind, "float")
    assert isinstance(model.encoder.forward, FusedEncoderForward)

    def refuse(*args, **kwargs):
        raise AssertionError("module-by-module forward ran")

    monkeypatch.setattr(type(model.encoder), "forward", refuse)
    run(model, inputs(2, 8, padded=True), monkeypatch, fused=True)


def test_falls_back_for_what_only_the_modules_provide(monkeypatch):
    model = packed_model("bert", "float")
    features = inputs(2, 8, padded=False)
    monkeypatch.setenv(FUSED_ENV, "1")
    with torch.inference_mode():
        out = model(**features, output_hidden_states=True)
    assert len(out.hidden_states) == model.config.num_hidden_layers + 1
    # the reference kernel is never replaced by the fused C forward
    expected = run(model, features, monkeypatch, fused=False, kernel="reference")
    torch.testing.assert_close(run(model, features, monkeypatch, fused=True, kernel="reference"), expected)


def test_falls_back_for_autograd(monkeypatch):
    model = packed_model("bert", "float")
    embeddings = model.embeddings(input_ids=inputs(1, 6, padded=False)["input_ids"]).detach().requires_grad_()
    monkeypatch.setenv(FUSED_ENV, "1")
    out = model.encoder(embeddings).last_hidden_state
    out.sum().backward()
    assert embeddings.grad is not None


def test_edited_norm_weights_are_picked_up(monkeypatch):
    model = packed_model("bert", "float")
    features = inputs(2, 10, padded=True)
    before = run(model, features, monkeypatch, fused=True)
    with torch.no_grad():
        model.encoder.layer[0].output.LayerNorm.weight.mul_(2.0)
    expected = run(model, features, monkeypatch, fused=False)
    got = run(model, features, monkeypatch, fused=True)
    assert not torch.allclose(before, got)
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=1e-4)


def test_unsupported_models_are_left_alone():
    model = tiny_text_model("bert").eval()
    assert enable_fused_encoder(model) == 0  # full precision: nothing to fuse
    packed = packed_model("bert", "float")
    assert enable_fused_encoder(packed) == 1  # idempotent


def test_invalid_encoder_is_a_clear_error():
    lib = native_library()[0]
    broken = _Encoder(None, 0, 32, 4, 64, 1e-12, 0)
    state = type("State", (), {"encoder": broken})()
    with pytest.raises(KernelLibraryError, match="invalid argument"):
        run_encoder(lib, state, torch.zeros(1, 4, 32), None, None, 0)
    assert ctypes.sizeof(broken) > 0


# head sizes 32 and 64: the bf16 AMX attention where the CPU has AMX
@pytest.mark.parametrize("heads", [2, 1])
@pytest.mark.parametrize("kind", ["bert", "mpnet"])
def test_int8_mode_with_tile_sized_heads_matches(kind, heads, monkeypatch):
    import transformers

    torch.manual_seed(0)
    sizes = {
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": heads,
        "intermediate_size": 128,
    }
    if kind == "bert":
        model = transformers.BertModel(
            transformers.BertConfig(vocab_size=1000, max_position_embeddings=80, **sizes)
        )
    else:
        model = transformers.MPNetModel(
            transformers.MPNetConfig(vocab_size=1000, max_position_embeddings=80, **sizes)
        )
    config = ternembed.TernaryConfig(activations="int8")
    ternembed.freeze(ternembed.prepare(model.eval(), config), config)
    features = inputs(3, 45, padded=True)
    expected = run(model, features, monkeypatch, fused=False)
    got = run(model, features, monkeypatch, fused=True)
    cosine = torch.nn.functional.cosine_similarity(got.flatten(0, 1), expected.flatten(0, 1))
    assert cosine.min() > 0.9999
