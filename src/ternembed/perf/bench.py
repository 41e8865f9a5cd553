"""Run every variant in its own worker process, time them in interleaved rounds, collect the rows (``ternembed bench``)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ternembed.errors import TernembedError
from ternembed.perf.cpu import cpu_name
from ternembed.perf.report import write_chart, write_markdown
from ternembed.perf.variants import OPENVINO_VARIANTS, ORT_VARIANTS, VARIANTS, VariantError, export_onnx
from ternembed.perf.worker import RESULT_PREFIX

FULL_SHAPES: tuple[tuple[int, int], ...] = tuple((b, s) for b in (1, 8, 32) for s in (16, 32, 128))
QUICK_SHAPES: tuple[tuple[int, int], ...] = ((1, 32), (32, 128))
SETTLE_S = 0.05
"""Pause after each timed call, so an engine's spinning threads (ONNX Runtime's, OpenVINO's) go idle
before the next engine runs; measured here, 5 ms was not enough."""


class BenchError(TernembedError, RuntimeError):
    """A variant's worker process failed."""


@dataclass
class BenchSettings:
    """What ``ternembed bench`` measures.

    Attributes:
        model: a packed ternary folder, or (with ``ternarize``) a full-precision model to ternarize in memory.
        baseline: the full-precision model of the torch / ONNX Runtime variants.
        out: folder for bench.json, bench.md and bench.png.
        threads: intra-op threads of every variant.
        repeats: timed calls per shape (median reported); fewer when a shape exceeds ``budget_s``.
        quick: only batch 1 x 32 and 32 x 128 tokens.
        activations: run the ternary variants with ``float`` or ``int8`` activations (None: as saved).
        interleaved: time the variants in rounds of one call each (robust to load spikes on shared
            machines) rather than all calls of one variant in a row; every variant has its own process.
    """

    model: str
    baseline: str
    out: Path
    threads: int = 2
    repeats: int = 10
    quick: bool = False
    ternarize: bool = False
    activations: str | None = None
    interleaved: bool = True
    variants: tuple[str, ...] = VARIANTS
    budget_s: float = 15.0
    shapes: tuple[tuple[int, int], ...] = field(default=())

    def __post_init__(self) -> None:
        self.shapes = self.shapes or (QUICK_SHAPES if self.quick else FULL_SHAPES)


class _Worker:
    """One variant's worker process (:mod:`ternembed.perf.worker`), asked one JSON command at a time."""

    def __init__(self, spec: dict, variant: str) -> None:
        self.variant = variant
        env = {**os.environ, "OMP_NUM_THREADS": str(spec["threads"]), "TOKENIZERS_PARALLELISM": "false"}
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by close()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ternembed.perf.worker", json.dumps({**spec, "variant": variant})],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env,
        )  # fmt: skip

    def ask(self, command: dict | None = None) -> dict:
        """Send ``command`` (None: only read) and return the worker's next reply."""
        try:
            if command is not None:
                self._process.stdin.write(json.dumps(command) + "\n")
                self._process.stdin.flush()
            for line in self._process.stdout:
                if line.startswith(RESULT_PREFIX):
                    return json.loads(line[len(RESULT_PREFIX) :])
        except BrokenPipeError:
            pass
        code = self._process.wait()
        self._stderr.seek(0)
        tail = "\n".join(self._stderr.read().strip().splitlines()[-8:])
        raise BenchError(f"variant {self.variant} failed (exit code {code}):\n{tail}")

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._stderr.close()


def _start_workers(spec: dict, variants: list[str], log) -> dict[str, _Worker]:  # noqa: ANN001
    """One worker per variant, started one after another so load times are not disturbed."""
    workers: dict[str, _Worker] = {}
    try:
        for variant in variants:
            log(f"loading {variant} in its own process ...")
            workers[variant] = _Worker(spec, variant)
            workers[variant].ask()  # the "ready" reply
    except BaseException:
        for worker in workers.values():
            worker.close()
        raise
    return workers


def _time_shape(workers: dict[str, _Worker], shape: list[int], settings: BenchSettings) -> dict[str, list[float]]:
    """Milliseconds of single calls per variant: rounds of one call each in a rotating order, or all of
    one variant's calls in a row (``interleaved`` off); at least 3 and at most ``repeats`` calls within
    the time budget."""
    times: dict[str, list[float]] = {variant: [] for variant in workers}

    def call(variant: str) -> None:
        times[variant].append(workers[variant].ask({"shape": shape})["ms"])
        time.sleep(SETTLE_S)

    if settings.interleaved:
        start = time.perf_counter()
        for round_index in range(settings.repeats):
            if round_index >= 3 and time.perf_counter() - start > settings.budget_s * len(workers):
                break
            order = list(workers)
            shift = round_index % len(order)  # each engine follows each other one in turn
            for variant in order[shift:] + order[:shift]:
                call(variant)
    else:
        for variant in workers:
            start = time.perf_counter()
            while len(times[variant]) < settings.repeats and (
                len(times[variant]) < 3 or time.perf_counter() - start < settings.budget_s
            ):
                call(variant)
    return times


def _measure(spec: dict, variants: list[str], settings: BenchSettings, log) -> list[dict]:  # noqa: ANN001
    workers = _start_workers(spec, variants, log)
    try:
        rows = []
        for batch_size, seq_len in settings.shapes:
            log(f"timing {batch_size}x{seq_len} ...")
            for variant, values in _time_shape(workers, [batch_size, seq_len], settings).items():
                median_ms = statistics.median(values)
                rows.append({"variant": variant, "batch_size": batch_size, "seq_len": seq_len,
                             "threads": settings.threads, "median_ms": median_ms, "min_ms": min(values),
                             "repeats": len(values), "texts_per_s": batch_size / (median_ms / 1e3)})  # fmt: skip
        memory = {variant: worker.ask({"done": True}) for variant, worker in workers.items()}
    finally:
        for worker in workers.values():
            worker.close()
    return [{**row, **memory[row["variant"]]} for row in rows]


def _add_ratios(rows: list[dict]) -> None:
    fp32 = {(r["batch_size"], r["seq_len"]): r["median_ms"] for r in rows if r["variant"] == "torch-fp32"}
    for row in rows:
        reference = fp32.get((row["batch_size"], row["seq_len"]))
        if reference:
            row["latency_vs_fp32"] = row["median_ms"] / reference
            row["speedup_vs_fp32"] = reference / row["median_ms"]


def run_bench(settings: BenchSettings, log=print) -> dict:  # noqa: ANN001 - a print-like callable
    """Measure every variant and write bench.json, bench.md and bench.png into ``settings.out``."""
    from transformers import AutoConfig

    from ternembed.models import resolve_model

    baseline = resolve_model(settings.baseline)
    settings.out.mkdir(parents=True, exist_ok=True)
    spec = {
        "baseline": baseline,
        "ternary_source": settings.model,
        "ternarize": settings.ternarize,
        "activations": settings.activations,
        "threads": settings.threads,
        "vocab_size": AutoConfig.from_pretrained(baseline).vocab_size,
    }
    skipped: dict[str, str] = {}
    ort_variants = tuple(v for v in settings.variants if v in ORT_VARIANTS)
    if ort_variants:
        try:
            log("exporting the baseline to ONNX and quantizing it (ONNX Runtime dynamic int8) ...")
            spec["onnx_paths"] = export_onnx(baseline, settings.out / "onnx", ort_variants)
        except ImportError as error:
            for variant in ort_variants:
                skipped[variant] = f"onnxruntime / onnx not installed ({error.name})"
            log(f"skipping {', '.join(ort_variants)}: onnxruntime / onnx not installed ({error.name})")
    openvino_variants = tuple(v for v in settings.variants if v in OPENVINO_VARIANTS)
    if openvino_variants:
        from ternembed.perf.openvino_variants import export_openvino

        try:
            log("converting the baseline to OpenVINO and quantizing it (NNCF static int8) ...")
            spec["openvino_paths"] = export_openvino(baseline, settings.out / "openvino", openvino_variants)
        except (ImportError, VariantError) as error:
            for variant in openvino_variants:
                skipped[variant] = str(error)
            log(f"skipping {', '.join(openvino_variants)}: {error}")
    measured = [v for v in settings.variants if v not in skipped]
    rows = _measure(spec, measured, settings, log)
    _add_ratios(rows)
    result = {
        "model": settings.model,
        "baseline": baseline,
        "ternarized_in_memory": settings.ternarize,
        "activations": settings.activations or "as saved",
        "threads": settings.threads,
        "repeats": settings.repeats,
        "timing": "one process per variant, " + ("rounds interleaved" if settings.interleaved else "in turn"),
        "onnxruntime_session": "library defaults (thread spinning on), intra_op_num_threads = threads",
        "openvino_precision": "openvino-fp32: INFERENCE_PRECISION_HINT f32; openvino-int8: NNCF int8, "
        "OpenVINO's default precision elsewhere",
        "cpu": cpu_name(),
        "command": " ".join(["ternembed", *sys.argv[1:]]) if sys.argv[0].endswith("ternembed") else None,
        "skipped": skipped,
        "rows": rows,
    }
    (settings.out / "bench.json").write_text(json.dumps(result, indent=2))
    write_markdown(result, settings.out / "bench.md")
    write_chart(result, settings.out / "bench.png")
    return result
