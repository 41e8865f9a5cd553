"""Fuzzing the compiled kernels against the reference: random layer shapes, granularities, storages,
activation modes and instruction sets for one linear layer, and random small encoders for the fused path."""

from __future__ import annotations

import pytest
import torch
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st

import ternembed
from ternembed.kernels import KERNEL_ENV, native_library, selected_kernel
from ternembed.kernels.native import ISA_NAMES
from ternembed.nn.fused_encoder import FUSED_ENV
from tests.kernels.test_fast_kernel import assert_matches_reference, make_layer

pytestmark = pytest.mark.skipif(native_library() is None, reason="compiled kernel library not built")

BEST_ISA = selected_kernel()
ISAS = ISA_NAMES[: ISA_NAMES.index(BEST_ISA) + 1] if BEST_ISA in ISA_NAMES else ("portable",)


@st.composite
def layer_cases(draw):
    in_features = draw(st.integers(min_value=1, max_value=520))
    granularity = draw(st.sampled_from(["tensor", "row", "group"]))
    group_size = {"tensor": None, "row": 0}.get(granularity) if granularity != "group" else draw(
        st.integers(min_value=1, max_value=in_features + 40)
    )
    return {
        "out_features": draw(st.integers(min_value=1, max_value=200)),
        "in_features": in_features,
        "group_size": group_size,
        "storage": draw(st.sampled_from(["2bit", "base3"])),
        "activations": draw(st.sampled_from(["float", "int8"])),
        "bias": draw(st.booleans()),
        "rows": draw(st.integers(min_value=1, max_value=40)),  # an empty batch has its own test
        "isa": draw(st.sampled_from(ISAS)),
    }


@settings(max_examples=120, deadline=None)
@given(case=layer_cases())
def test_random_layers_match_the_reference(case):
    layer = make_layer(case["out_features"], case["in_features"], group_size=case["group_size"],
                       storage=case["storage"], activations=case["activations"], bias=case["bias"])  # fmt: skip
    x = torch.randn(case["rows"], case["in_features"], generator=torch.Generator().manual_seed(case["rows"]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KERNEL_ENV, case["isa"])
        assert_matches_reference(x, layer)


@settings(max_examples=25, deadline=None)
@given(
    heads=st.integers(min_value=1, max_value=4),
    head_dim=st.sampled_from([4, 8, 16, 32]),
    layers=st.integers(min_value=1, max_value=3),
    intermediate=st.integers(min_value=8, max_value=96),
    batch=st.integers(min_value=1, max_value=4),
    seq=st.integers(min_value=1, max_value=40),
    isa=st.sampled_from(ISAS),
)
def test_random_encoders_fused_match_module_by_module(heads, head_dim, layers, intermediate, batch, seq, isa):
    torch.manual_seed(heads * 1000 + head_dim * 10 + layers)
    config = transformers.BertConfig(vocab_size=200, hidden_size=heads * head_dim, num_attention_heads=heads,
                                     num_hidden_layers=layers, intermediate_size=intermediate,
                                     max_position_embeddings=64)  # fmt: skip
    model = transformers.BertModel(config).eval()
    ternary = ternembed.TernaryConfig(activations="float")
    ternembed.prepare(model, ternary)
    model = ternembed.freeze(model, ternary)
    generator = torch.Generator().manual_seed(batch * 100 + seq)
    features = {"input_ids": torch.randint(5, 200, (batch, seq), generator=generator),
                "attention_mask": torch.ones(batch, seq, dtype=torch.long)}  # fmt: skip
    if batch > 1 and seq > 1:
        features["attention_mask"][0, seq // 2 :] = 0
    outputs = {}
    with pytest.MonkeyPatch.context() as patch, torch.inference_mode():
        patch.setenv(KERNEL_ENV, isa)
        for fused in (False, True):
            patch.setenv(FUSED_ENV, "1" if fused else "0")
            outputs[fused] = model(**features).last_hidden_state
    mask = features["attention_mask"].bool()
    torch.testing.assert_close(outputs[True][mask], outputs[False][mask], atol=5e-5, rtol=1e-4)
