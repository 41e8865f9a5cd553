"""`ternembed bench` end to end on the tiny model: one worker process per variant (torch, ONNX Runtime,
OpenVINO, ternary), rounds interleaved.

Nothing here asserts on time; the tests check that every variant and shape gets a row with the
measured fields, that both ONNX Runtime int8 files are made, and that a failing worker is one error.
"""

from __future__ import annotations

import io
import json

import onnx
import pytest

from ternembed.perf.bench import BenchError, BenchSettings, run_bench
from ternembed.perf.worker import RESULT_PREFIX, serve

VARIANTS = ("torch-fp32", "ort-int8", "ort-int8-per-channel", "openvino-fp32", "openvino-int8", "ternary")


@pytest.mark.parametrize(("interleaved", "variants"), [(True, VARIANTS), (False, ("torch-fp32", "ternary"))])
def test_every_variant_and_shape_is_measured_in_its_own_process(tiny_st_dir, tmp_path, interleaved, variants):
    settings = BenchSettings(model=tiny_st_dir, baseline=tiny_st_dir, out=tmp_path / "bench", threads=1,
                             repeats=3, ternarize=True, interleaved=interleaved, variants=variants,
                             shapes=((1, 8), (2, 16)))  # fmt: skip
    result = run_bench(settings, log=lambda message: None)
    rows = {(row["variant"], row["batch_size"], row["seq_len"]): row for row in result["rows"]}
    assert set(rows) == {(v, b, s) for v in variants for b, s in ((1, 8), (2, 16))}
    for row in rows.values():
        assert row["repeats"] == 3 and row["median_ms"] > 0 and row["peak_rss_mb"] > 0 and row["load_s"] > 0
    assert rows[("ternary", 1, 8)]["kernel"]
    assert result["timing"].startswith("one process per variant")
    saved = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert saved["rows"] == result["rows"] and (tmp_path / "bench" / "bench.md").is_file()


def test_onnx_runtime_int8_files_differ_in_weight_scales(tiny_st_dir, tmp_path):
    """The per-channel file stores one scale per output channel, the default one per tensor."""
    from ternembed.perf.variants import export_onnx

    paths = export_onnx(tiny_st_dir, tmp_path)

    def scale_sizes(path: str) -> set[int]:
        model = onnx.load(path)
        scales = [tensor for tensor in model.graph.initializer if tensor.name.endswith("_scale")]
        return {int(onnx.numpy_helper.to_array(tensor).size) for tensor in scales}

    assert scale_sizes(paths["ort-int8"]) == {1}
    assert max(scale_sizes(paths["ort-int8-per-channel"])) > 1


def test_worker_protocol_warms_up_each_shape_then_times_single_calls(tiny_st_dir):
    from transformers import AutoConfig

    spec = {"variant": "torch-fp32", "baseline": tiny_st_dir, "ternary_source": tiny_st_dir, "ternarize": False,
            "threads": 1, "vocab_size": AutoConfig.from_pretrained(tiny_st_dir).vocab_size}  # fmt: skip
    lines = [json.dumps(command) for command in ({"shape": [1, 8]}, {"shape": [1, 8]}, {"done": True})]
    commands = io.StringIO("\n".join(lines) + "\n")
    replies = io.StringIO()
    serve(spec, commands, replies)
    messages = [json.loads(line[len(RESULT_PREFIX) :]) for line in replies.getvalue().splitlines()]
    assert messages[0] == {"ready": True}
    assert [set(m) for m in messages[1:3]] == [{"ms"}, {"ms"}]
    assert {"load_s", "weights_bytes", "model_rss_mb", "peak_rss_mb"} <= set(messages[3])


def test_a_failing_variant_is_one_error_with_the_worker_output(tmp_path):
    settings = BenchSettings(model=str(tmp_path / "none"), baseline=str(tmp_path), out=tmp_path / "bench",
                             variants=("ternary",), shapes=((1, 8),))  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "vocab_size": 100}))
    with pytest.raises(BenchError, match=r"variant ternary failed \(exit code 1\)"):
        run_bench(settings, log=lambda message: None)


def test_baseline_engines_compute_the_same_embeddings_as_torch(tiny_st_dir, tmp_path):
    """Each engine is timed on the real computation: its embeddings match torch fp32's."""
    import numpy as np
    from transformers import AutoConfig

    from ternembed.perf.openvino_variants import export_openvino
    from ternembed.perf.variants import export_onnx
    from ternembed.perf.worker import load_variant, make_batch

    spec = {"baseline": tiny_st_dir, "ternary_source": tiny_st_dir, "ternarize": False, "threads": 1,
            "onnx_paths": export_onnx(tiny_st_dir, tmp_path / "onnx"),
            "openvino_paths": export_openvino(tiny_st_dir, tmp_path / "openvino")}  # fmt: skip
    batch = make_batch(3, 12, AutoConfig.from_pretrained(tiny_st_dir).vocab_size)
    reference = np.asarray(load_variant(spec, "torch-fp32")[0](batch))
    for variant, tolerance in (("openvino-fp32", 1e-4), ("ort-int8", 0.05), ("ort-int8-per-channel", 0.05),
                               ("openvino-int8", 0.05)):  # fmt: skip
        got = np.asarray(load_variant(spec, variant)[0](batch))
        assert got.shape == reference.shape
        assert np.abs(got - reference).max() < tolerance, variant
