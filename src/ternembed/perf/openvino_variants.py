"""OpenVINO baselines of ``ternembed bench``: the baseline encoder converted with ``openvino.convert_model``,
run in fp32, and quantized to int8 with NNCF static quantization on real calibration text.

OpenVINO runs bf16 on AMX machines unless told otherwise, so ``openvino-fp32`` pins
``INFERENCE_PRECISION_HINT=f32``; ``openvino-int8`` keeps OpenVINO's default precision for the layers
NNCF leaves in floating point (its fastest configuration, what a user gets). Both use ``threads``
inference threads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ternembed.perf.variants import OPENVINO_VARIANTS, Batch, Runner, VariantError, export_graph, mean_pooled

CALIBRATION_TEXTS = 300
CALIBRATION_MAX_TOKENS = 128


def export_openvino(baseline: str, folder: Path, variants: tuple[str, ...] = tuple(OPENVINO_VARIANTS)) -> dict[str, str]:
    """Convert the baseline (and quantize it for ``openvino-int8``); returns each variant's model file."""
    try:
        import openvino as ov
    except ImportError as error:
        raise VariantError("openvino is not installed (pip install 'ternembed[bench]')") from error
    graph, example = export_graph(baseline)
    converted = ov.convert_model(graph, example_input=example)
    for port, name in zip(converted.inputs, graph.names, strict=True):
        port.get_tensor().set_names({name})
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for variant in variants:
        paths[variant] = str(folder / OPENVINO_VARIANTS[variant])
        model = converted if variant == "openvino-fp32" else _quantized(converted, baseline, graph.names)
        ov.save_model(model, paths[variant], compress_to_fp16=False)
    return paths


def _quantized(model, baseline: str, names: list[str]):  # noqa: ANN001, ANN202 - openvino.Model
    """NNCF static int8 quantization calibrated on WordNet definitions tokenized by the baseline."""
    import nncf
    from transformers import AutoTokenizer

    from ternembed.data.wordnet import training_texts

    tokenizer = AutoTokenizer.from_pretrained(baseline)
    texts = training_texts()[:CALIBRATION_TEXTS]
    samples = []
    for text in texts:
        encoded = tokenizer(text, truncation=True, max_length=CALIBRATION_MAX_TOKENS, return_tensors="np")
        samples.append({name: encoded[name].astype(np.int64) for name in names if name in encoded})
    return nncf.quantize(model, nncf.Dataset(samples), model_type=nncf.ModelType.TRANSFORMER,
                         subset_size=len(samples))  # fmt: skip


def load_openvino_variant(variant: str, path: Path, threads: int) -> tuple[Runner, int]:
    """A compiled OpenVINO model with mean pooling and normalization in numpy, like the other variants."""
    import openvino as ov

    config = {"INFERENCE_NUM_THREADS": threads}
    if variant == "openvino-fp32":
        config["INFERENCE_PRECISION_HINT"] = "f32"
    compiled = ov.Core().compile_model(str(path), "CPU", config)
    request = compiled.create_infer_request()
    input_names = {port.get_any_name() for port in compiled.inputs}

    def run(batch: Batch) -> object:
        outputs = request.infer({name: values for name, values in batch.items() if name in input_names})
        return mean_pooled(next(iter(outputs.values())), batch)

    return run, Path(path).with_suffix(".bin").stat().st_size
