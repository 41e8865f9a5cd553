"""How each benchmarked variant is loaded and run on a batch of token ids."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ternembed.errors import TernembedError

ORT_VARIANTS: dict[str, str] = {"ort-int8": "model_int8.onnx", "ort-int8-per-channel": "model_int8_per_channel.onnx"}
"""ONNX Runtime dynamic int8 as ``quantize_dynamic`` makes it by default (one scale per weight tensor) and
per output channel, as sentence-transformers' ``export_dynamic_quantized_onnx_model`` does; file names."""
OPENVINO_VARIANTS: dict[str, str] = {"openvino-fp32": "model_fp32.xml", "openvino-int8": "model_int8.xml"}
"""OpenVINO in fp32 and NNCF static int8 (``ternembed.perf.openvino_variants``); file names."""
VARIANTS: tuple[str, ...] = ("torch-fp32", "torch-bf16", "torch-int8", *ORT_VARIANTS, *OPENVINO_VARIANTS,
                             "ternary-ref", "ternary")  # fmt: skip
ONNX_FP32 = "model_fp32.onnx"

Batch = dict[str, np.ndarray]
Runner = Callable[[Batch], object]


class VariantError(TernembedError, RuntimeError):
    """A variant cannot be built here (missing optional dependency, unsupported model, ...)."""


def state_bytes(model: torch.nn.Module) -> int:
    """Bytes of every tensor in the state dict (quantized tensors count their integer storage)."""
    total = 0
    for value in model.state_dict().values():
        if isinstance(value, torch.Tensor):
            total += value.numel() * value.element_size()
        elif isinstance(value, tuple):  # packed params of dynamically quantized linears
            total += sum(v.numel() * v.element_size() for v in value if isinstance(v, torch.Tensor))
    return total


def _torch_runner(model: torch.nn.Module) -> Runner:
    """Run ``model`` on a batch of token ids (each variant has its own process, so its kernel choice,
    set when it is loaded, holds for every call)."""

    def run(batch: Batch) -> object:
        features = {name: torch.from_numpy(values) for name, values in batch.items()}
        with torch.inference_mode():
            return model(features)["sentence_embedding"]

    return run


def load_torch_variant(
    variant: str, baseline: str, ternary_source: str, ternarize: bool, activations: str | None = None
) -> tuple[Runner, int]:
    """A runner and the weight bytes for one of the torch-based variants (``activations``: ternary only)."""
    from ternembed.models import load_sentence_transformer

    if variant.startswith("ternary"):
        os.environ["TERNEMBED_KERNEL"] = "reference" if variant == "ternary-ref" else "auto"
        model = load_ternary(ternary_source, ternarize)
        if activations is not None:
            from ternembed.quantize import set_activations

            set_activations(model, activations)
    else:
        model = load_sentence_transformer(baseline).eval()
        if variant == "torch-bf16":
            model = model.to(torch.bfloat16)
        elif variant == "torch-int8":
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return _torch_runner(model), state_bytes(model)


def load_ternary(source: str, ternarize: bool) -> torch.nn.Module:
    """A packed ternary model: from a folder saved by ternembed, or ternarized in memory."""
    if not ternarize:
        from ternembed.io import load

        return load(source)
    import ternembed
    from ternembed.models import load_sentence_transformer

    model = load_sentence_transformer(source)
    config = ternembed.TernaryConfig()
    ternembed.prepare(model, config)
    return ternembed.freeze(model, config)


class LastHiddenState(torch.nn.Module):
    """The baseline transformer as a graph of positional token inputs to its last hidden state."""

    def __init__(self, model: torch.nn.Module, names: list[str]) -> None:
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *inputs):  # noqa: ANN002, ANN201
        return self.model(**dict(zip(self.names, inputs, strict=True))).last_hidden_state


def export_graph(baseline: str) -> tuple[LastHiddenState, tuple[torch.Tensor, ...]]:
    """The baseline's encoder for ONNX / OpenVINO conversion, and an example input for tracing."""
    from ternembed.models import load_sentence_transformer

    model = load_sentence_transformer(baseline)[0].auto_model.eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    if (
        getattr(model.config, "type_vocab_size", 0) == 0
        or "token_type_ids" not in inspect.signature(model.forward).parameters
    ):
        names = names[:2]
    example = torch.ones(2, 8, dtype=torch.long)
    return LastHiddenState(model, names), tuple(
        example if name != "token_type_ids" else torch.zeros_like(example) for name in names
    )


def mean_pooled(hidden: np.ndarray, batch: Batch) -> np.ndarray:
    """Mean pooling over the attention mask and L2 normalization, as the torch variants do."""
    mask = batch["attention_mask"][..., None].astype(np.float32)
    pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def export_onnx(baseline: str, folder: Path, variants: tuple[str, ...] = tuple(ORT_VARIANTS)) -> dict[str, str]:
    """Export the baseline transformer to ONNX and quantize it with ORT dynamic int8 for each of ``variants``.

    Returns each variant's int8 file. Per-channel quantization keeps ``reduce_range`` off, as
    sentence-transformers' export for AVX-512 VNNI does.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph, example = export_graph(baseline)
    folder.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        graph,
        example,
        str(folder / ONNX_FP32),
        input_names=graph.names,
        output_names=["last_hidden_state"],
        dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*graph.names, "last_hidden_state"]},
        opset_version=17,
        dynamo=False,
    )
    paths = {}
    for variant in variants:
        paths[variant] = str(folder / ORT_VARIANTS[variant])
        quantize_dynamic(str(folder / ONNX_FP32), paths[variant], weight_type=QuantType.QInt8,
                         per_channel=variant == "ort-int8-per-channel", reduce_range=False)  # fmt: skip
    return paths


def load_ort_variant(onnx_path: Path, threads: int) -> tuple[Runner, int]:
    """An ONNX Runtime session with mean pooling and normalization in numpy, like the torch variants."""
    try:
        import onnxruntime as ort
    except ImportError as error:
        raise VariantError("onnxruntime is not installed (pip install 'ternembed[bench]')") from error
    options = ort.SessionOptions()  # ONNX Runtime's defaults (thread spinning on) but the thread count
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    input_names = {node.name for node in session.get_inputs()}

    def run(batch: Batch) -> object:
        hidden = session.run(None, {name: values for name, values in batch.items() if name in input_names})[0]
        return mean_pooled(hidden, batch)

    return run, onnx_path.stat().st_size
