"""The fused shortcut through the text pipeline gives what the module stack gives, and steps aside otherwise."""

from __future__ import annotations

import pytest
import torch

import ternembed
from ternembed.io.fast_forward import fast_text_forward
from ternembed.kernels import native_library, selected_kernel
from ternembed.nn.fused_encoder import FUSED_ENV

pytestmark = pytest.mark.skipif(native_library() is None, reason="compiled kernel library not built")
TEXTS = ["a dog", "the quick brown fox jumps over the lazy dog near the river bank", "", "tree"]


@pytest.fixture(scope="module")
def loaded(tiny_st_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fast") / "model"
    config = ternembed.TernaryConfig()
    ternembed.save(ternembed.ternarize_model(tiny_st_dir, config), folder, config)
    return ternembed.load(folder)


def features(model) -> dict:
    return model.tokenize(TEXTS)


def test_shortcut_matches_the_modules(loaded, monkeypatch):
    batch = features(loaded)
    with torch.inference_mode():
        fast = fast_text_forward(loaded, dict(batch), {})
        monkeypatch.setenv(FUSED_ENV, "0")
        modules = loaded(dict(batch))
    assert fast is not None and set(fast) == set(modules)
    torch.testing.assert_close(
        fast["sentence_embedding"], modules["sentence_embedding"], atol=2e-5, rtol=1e-4
    )
    torch.testing.assert_close(fast["token_embeddings"], modules["token_embeddings"], atol=2e-5, rtol=1e-4)


def test_encode_takes_the_shortcut_and_agrees(loaded, monkeypatch):
    calls = []
    original = ternembed.io.sentence_transformer.fast_text_forward

    def spy(*args):
        result = original(*args)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(ternembed.io.sentence_transformer, "fast_text_forward", spy)
    fast = loaded.encode(TEXTS, convert_to_tensor=True)
    assert calls and all(calls)
    monkeypatch.setenv(FUSED_ENV, "0")
    slow = loaded.encode(TEXTS, convert_to_tensor=True)
    torch.testing.assert_close(fast, slow, atol=2e-5, rtol=1e-4)
    tokens = loaded.encode(TEXTS[:2], output_value="token_embeddings")
    assert tokens[0].shape[-1] == fast.shape[-1]


def test_steps_aside_for_unsupported_requests(loaded, monkeypatch):
    batch = dict(features(loaded))
    with torch.inference_mode():
        assert fast_text_forward(loaded, {**batch, "prompt_length": 1}, {}) is None
        assert fast_text_forward(loaded, batch, {"task": "x"}) is None
        assert fast_text_forward(loaded, {**batch, "modality": "image"}, {}) is None
        monkeypatch.setenv("TERNEMBED_KERNEL", "reference")
        assert fast_text_forward(loaded, batch, {}) is None
    assert fast_text_forward(loaded, batch, {}) is None  # gradients enabled: the modules run


def test_device_answer_is_remembered_until_the_model_moves(loaded):
    loaded.encode(TEXTS)
    assert loaded._resolved_device is not None
    loaded.to("cpu")
    assert loaded._resolved_device is None
    assert loaded.encode(TEXTS).shape == (len(TEXTS), loaded.get_embedding_dimension())


@pytest.mark.parametrize("kind", ["bert", "mpnet"])
@pytest.mark.parametrize("embeddings", ["int8", "fp32", "fp16"])
def test_native_embeddings_match_the_module(kind, embeddings):
    from ternembed.io.fast_forward import _embed
    from tests.tiny_models import tiny_text_model

    model = tiny_text_model(kind).eval()
    config = ternembed.TernaryConfig(embeddings=embeddings)
    ternembed.freeze(ternembed.prepare(model, config), config)
    ids = torch.randint(5, 1000, (3, 11), generator=torch.Generator().manual_seed(0))
    ids[0, 7:] = model.config.pad_token_id  # padding shifts MPNet's positions
    types = torch.randint(0, 2, ids.shape) if kind == "bert" else None
    with torch.inference_mode():
        expected = model.embeddings(input_ids=ids, **({"token_type_ids": types} if types is not None else {}))
        got = _embed(model.embeddings, ids, types, selected_kernel())
    torch.testing.assert_close(got, expected, atol=2e-6, rtol=1e-5)


def test_out_of_range_token_id_is_an_error():
    from ternembed.io.fast_forward import _embed
    from tests.tiny_models import tiny_text_model

    model = tiny_text_model("bert").eval()
    ternembed.freeze(ternembed.prepare(model, ternembed.TernaryConfig()), ternembed.TernaryConfig())
    with pytest.raises(IndexError, match="outside its embedding table"), torch.inference_mode():
        _embed(model.embeddings, torch.tensor([[1, 2, 5000]]), None, selected_kernel())
