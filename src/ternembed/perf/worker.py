"""Benchmark worker process: holds one variant and times single calls on the coordinator's request.

``python -m ternembed.perf.worker SPEC_JSON`` loads the variant named in the spec, then reads commands
from standard input and answers on standard output (lines starting with ``RESULT_PREFIX``; anything
else a library prints is ignored). Run by :mod:`ternembed.perf.bench`, one worker per variant, so each
engine has its own process, threads and memory while the rounds of all of them interleave.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

RESULT_PREFIX = "TERNEMBED_BENCH_RESULT "
FIRST_TOKEN_ID, LAST_TOKEN_ID = 101, 102


def status_mb(field: str, pid: int | str = "self") -> float:
    """A memory line of /proc/PID/status in MiB (VmRSS now, VmHWM peak; both reset by exec)."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise OSError(f"/proc/{pid}/status has no {field} line")


def current_rss_mb() -> float:
    return status_mb("VmRSS")


def make_batch(batch_size: int, seq_len: int, vocab_size: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random token ids framed by [CLS] ... [SEP], no padding: every variant sees the same input."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1000, vocab_size, size=(batch_size, seq_len), dtype=np.int64)
    ids[:, 0], ids[:, -1] = FIRST_TOKEN_ID, LAST_TOKEN_ID
    return {
        "input_ids": ids,
        "attention_mask": np.ones_like(ids),
        "token_type_ids": np.zeros_like(ids),
    }


def load_variant(spec: dict, variant: str):  # noqa: ANN201 - (runner, weight bytes)
    from ternembed.perf import variants

    if variant in variants.ORT_VARIANTS:
        return variants.load_ort_variant(Path(spec["onnx_paths"][variant]), spec["threads"])
    if variant in variants.OPENVINO_VARIANTS:
        from ternembed.perf.openvino_variants import load_openvino_variant

        return load_openvino_variant(variant, Path(spec["openvino_paths"][variant]), spec["threads"])
    return variants.load_torch_variant(
        variant, spec["baseline"], spec["ternary_source"], spec["ternarize"], spec.get("activations")
    )


def serve(spec: dict, commands=sys.stdin, replies=sys.stdout) -> None:  # noqa: ANN001 - text streams
    """Load one variant, then answer the coordinator's commands, one JSON line each way.

    ``{"shape": [batch, tokens]}`` times one call on that shape (the first call of a shape is an untimed
    warm-up) and answers ``{"ms": ...}``; ``{"done": true}`` answers the load time and memory and ends.
    The first reply, ``{"ready": true}``, says the variant is loaded.
    """
    import torch

    torch.set_num_threads(spec["threads"])
    variant = spec["variant"]
    rss_before = current_rss_mb()
    began = time.perf_counter()
    run, weight_bytes = load_variant(spec, variant)
    load_s = time.perf_counter() - began
    memory = {"load_s": load_s, "weights_bytes": weight_bytes, "model_rss_mb": current_rss_mb() - rss_before}
    _reply(replies, {"ready": True})
    batches: dict[tuple[int, int], dict[str, np.ndarray]] = {}
    for line in commands:
        command = json.loads(line)
        if command.get("done"):
            break
        shape = tuple(command["shape"])
        if shape not in batches:
            batches[shape] = make_batch(*shape, spec["vocab_size"])
            run(batches[shape])
        started = time.perf_counter()
        run(batches[shape])
        _reply(replies, {"ms": (time.perf_counter() - started) * 1e3})
    memory["peak_rss_mb"] = status_mb("VmHWM")
    if variant.startswith("ternary"):
        from ternembed.kernels import selected_kernel

        memory["kernel"] = selected_kernel()
    _reply(replies, memory)


def _reply(replies, message: dict) -> None:  # noqa: ANN001 - a text stream
    replies.write(RESULT_PREFIX + json.dumps(message) + "\n")
    replies.flush()


def main() -> None:
    serve(json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
