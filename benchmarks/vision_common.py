"""Shared by the vision benchmarks: the distillation loop over image batches, the Fashion-MNIST score
(the same protocol as ``ternembed eval --tasks fashion-mnist``), latency and the result files.
"""

from __future__ import annotations

import copy
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ternembed.config import TernaryConfig
from ternembed.distill import DistillArguments, LossSpec, distillation_loss
from ternembed.distill.trainer import learning_rate
from ternembed.eval.image_tasks import FashionMnistTask
from ternembed.vision import ImageEncoder
from ternembed.vision.distill import ImageBatchEncoder

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def preprocess_all(encoder: ImageEncoder, images: np.ndarray, chunk: int = 2048) -> torch.Tensor:
    """``pixel_values`` for every image, through the encoder's own processor (as ``encode`` does)."""
    return torch.cat([encoder.preprocess(images[i : i + chunk]) for i in range(0, len(images), chunk)])


def distill_images(
    teacher: ImageEncoder,
    pixels: torch.Tensor,
    config: TernaryConfig,
    args: DistillArguments,
    prepare_fn: Callable[[nn.Module, TernaryConfig], nn.Module],
) -> tuple[ImageEncoder, dict[str, Any]]:
    """Self-distill a ternary copy of ``teacher`` on unlabeled ``pixels``; returns the (unfrozen) student.

    The loss terms, their parser and the learning-rate schedule are :mod:`ternembed.distill`'s; the
    teacher and student run through :class:`~ternembed.vision.distill.ImageBatchEncoder`, the image
    side of the loop's batch-encoder seam. Pixels are preprocessed once up front.
    """
    spec = LossSpec.parse(args.loss)
    batch_encoder = ImageBatchEncoder(teacher)
    teacher.eval().requires_grad_(False)
    student = prepare_fn(copy.deepcopy(teacher), config)
    student.requires_grad_(True).eval()  # as ternembed.distill: no dropout, drop-path or batch-norm updates
    parameters = [p for p in student.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=args.lr, weight_decay=args.weight_decay)
    generator = torch.Generator().manual_seed(args.seed)
    steps_per_epoch = len(pixels) // args.batch_size
    total_steps = args.max_steps or steps_per_epoch * args.epochs
    order = torch.cat(
        [torch.randperm(len(pixels), generator=generator) for _ in range(-(-total_steps // steps_per_epoch))]
    )
    start, running = time.perf_counter(), {}
    for step in range(total_steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, total_steps, args)
        batch = {"pixel_values": pixels[order[step * args.batch_size : (step + 1) * args.batch_size]]}
        with torch.no_grad():
            teacher_output = batch_encoder.encode(teacher, batch)
        student_output = batch_encoder.encode(student, batch)
        loss, terms = distillation_loss(spec, student_output, teacher_output, args.rkd_temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(parameters, args.max_grad_norm)
        optimizer.step()
        running = {k: 0.9 * running.get(k, v) + 0.1 * v for k, v in terms.items()}
        if (step + 1) % 50 == 0 or step + 1 == total_steps:
            log(
                f"distill step {step + 1}/{total_steps}: "
                + " ".join(f"{k}={v:.4g}" for k, v in running.items())
            )
    seconds = time.perf_counter() - start
    student.eval().requires_grad_(False)
    info = {
        "steps": total_steps,
        "images_seen": total_steps * args.batch_size,
        "seconds": round(seconds, 1),
        "images_per_second": round(total_steps * args.batch_size / seconds, 1),
        "loss": str(spec),
        "lr": args.lr,
        "lr_schedule": args.lr_schedule,
        "final_loss_terms": {k: round(v, 5) for k, v in running.items()},
    }
    return student, info


def fashion_mnist_scores(encoder: ImageEncoder, batch_size: int = 256) -> dict[str, float]:
    """Linear-probe ``accuracy`` and ``knn_accuracy`` by the evaluation suite's ``fashion-mnist`` task."""
    result = FashionMnistTask("full").run(encoder, batch_size=batch_size)
    scores = result["scores"]["test"][0]
    return {
        "linear_probe_accuracy": scores["accuracy"],
        "knn_accuracy": scores["knn_accuracy"],
        "f1": scores["f1"],
    }


@torch.inference_mode()
def latency_ms(
    models: dict[str, nn.Module], pixels: torch.Tensor, batch_size: int, repeats: int
) -> dict[str, float]:
    """Median forward latency (ms) per model on the same preprocessed batch, interleaved round by round."""
    batch = pixels[:batch_size]
    for model in models.values():
        model.eval()
        model(batch)
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            started = time.perf_counter()
            model(batch)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: round(statistics.median(values), 3) for name, values in times.items()}


def embedding_cosine(teacher: ImageEncoder, student: ImageEncoder, images: np.ndarray) -> float:
    """Mean cosine between teacher and student embeddings of ``images``."""
    a = teacher.encode(images, batch_size=256, normalize_embeddings=True)
    b = student.encode(images, batch_size=256, normalize_embeddings=True)
    return float((a * b).sum(1).mean())


def write_results(name: str, results: dict[str, Any], markdown: str) -> None:
    """``benchmarks/results/<name>.json`` and ``.md``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS_DIR / f"{name}.md").write_text(markdown)
    log(f"wrote {RESULTS_DIR / name}.json and .md")
