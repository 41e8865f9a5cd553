"""Run every variant in its own subprocess and collect the rows (``ternembed bench``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ternembed.errors import TernembedError
from ternembed.perf.cpu import cpu_name
from ternembed.perf.report import write_chart, write_markdown
from ternembed.perf.variants import VARIANTS, export_onnx
from ternembed.perf.worker import RESULT_PREFIX

FULL_SHAPES: tuple[tuple[int, int], ...] = tuple((b, s) for b in (1, 8, 32) for s in (16, 32, 128))
QUICK_SHAPES: tuple[tuple[int, int], ...] = ((1, 32), (32, 128))
MEMORY_FIELDS = ("load_s", "weights_bytes", "peak_rss_mb", "model_rss_mb", "kernel")


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
        interleaved: time all variants in one process, one call of each in turn (robust to load
            spikes on shared machines); load time and peak memory still come from one process per variant.
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


def _run_worker(spec: dict) -> list[dict]:
    env = {**os.environ, "OMP_NUM_THREADS": str(spec["threads"]), "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "ternembed.perf.worker", json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])["rows"]
    tail = "\n".join(done.stderr.strip().splitlines()[-8:])
    raise BenchError(f"variant {spec['variant']} failed (exit code {done.returncode}):\n{tail}")


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
        "repeats": settings.repeats,
        "budget_s": settings.budget_s,
        "shapes": [list(shape) for shape in settings.shapes],
        "vocab_size": AutoConfig.from_pretrained(baseline).vocab_size,
    }
    rows: list[dict] = []
    memory: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    for variant in settings.variants:
        if variant == "ort-int8":
            try:
                log("exporting the baseline to ONNX and quantizing it (ORT dynamic int8) ...")
                spec["onnx_path"] = str(export_onnx(baseline, settings.out / "onnx"))
            except ImportError as error:
                skipped[variant] = f"onnxruntime / onnx not installed ({error.name})"
                log(f"skipping {variant}: {skipped[variant]}")
                continue
        if settings.interleaved:
            log(f"measuring load time and memory of {variant} alone ...")
            alone = _run_worker({**spec, "variant": variant, "repeats": 1, "budget_s": 0.0})
            memory[variant] = {key: alone[0][key] for key in MEMORY_FIELDS if key in alone[0]}
        else:
            log(f"measuring {variant} ...")
            rows.extend(_run_worker({**spec, "variant": variant}))
    if settings.interleaved:
        measured = [v for v in settings.variants if v not in skipped]
        log(f"timing {', '.join(measured)} interleaved in one process ...")
        rows = [{**row, **memory[row["variant"]]} for row in _run_worker({**spec, "variants": measured})]
    _add_ratios(rows)
    result = {
        "model": settings.model,
        "baseline": baseline,
        "ternarized_in_memory": settings.ternarize,
        "activations": settings.activations or "as saved",
        "threads": settings.threads,
        "repeats": settings.repeats,
        "timing": "interleaved" if settings.interleaved else "one process per variant",
        "cpu": cpu_name(),
        "command": " ".join(["ternembed", *sys.argv[1:]]) if sys.argv[0].endswith("ternembed") else None,
        "skipped": skipped,
        "rows": rows,
    }
    (settings.out / "bench.json").write_text(json.dumps(result, indent=2))
    write_markdown(result, settings.out / "bench.md")
    write_chart(result, settings.out / "bench.png")
    return result
