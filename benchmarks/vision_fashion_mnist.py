"""Ternary ViT on Fashion-MNIST: train a teacher, ternarize it by self-distillation, compare.

Stages (each cached in ``--out``, so a rerun resumes after the last finished stage):
1. teacher: a small ViT (28x28 grayscale, patch 7: 16 patch tokens + CLS) trained with labels on the
   60k training images, saved as a full-precision image-encoder folder (safetensors);
2. ptq: the teacher ternarized without training (post-training quantization), frozen and packed;
3. student: the teacher ternarized and distilled on the *unlabeled* training images (the loss terms
   of :mod:`ternembed.distill`, default hidden-state MSE + pooled cosine; straight-through
   estimator), frozen and packed;
4. evaluation, each model loaded back from its folder: the evaluation suite's ``fashion-mnist`` task
   (linear probe and cosine 10-NN, 10k train / 10k test images), teacher-student cosine, weight-file
   size and CPU forward latency.

Deterministic: fixed seeds, fixed thread count, fixed data order. Run from the repository root:

    HF_HUB_OFFLINE=1 nice -n 10 python benchmarks/vision_fashion_mnist.py --out runs/vision/fashion_mnist

Writes ``benchmarks/results/vision_fashion_mnist.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
import transformers
from torch import nn
from vision_common import (
    distill_images,
    embedding_cosine,
    fashion_mnist_scores,
    latency_ms,
    log,
    preprocess_all,
    write_results,
)

from ternembed import freeze, prepare
from ternembed.data.fashion_mnist import load_fashion_mnist
from ternembed.distill import DistillArguments
from ternembed.vision import ImageEncoder
from ternembed.vision.config import vision_ternary_config
from ternembed.vision.io import folder_weight_bytes, load_image_encoder, save_image_encoder
from ternembed.vision.processor import pil_processor_class

FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530
RESULTS_NAME = "vision_fashion_mnist"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("runs/vision/fashion_mnist"), help="run folder (cache)"
    )
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--patch-size", type=int, default=7)
    parser.add_argument("--teacher-epochs", type=int, default=5)
    parser.add_argument("--teacher-lr", type=float, default=1e-3)
    parser.add_argument("--distill-epochs", type=int, default=2)
    parser.add_argument("--distill-lr", type=float, default=5e-4)
    parser.add_argument("--loss", default="hidden:1,cos:1", help="loss spec of ternembed.distill")
    parser.add_argument("--granularity", default="row", help="tensor | row | group:N")
    parser.add_argument("--threshold", default="optimal", help="paper | absmean | optimal")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1, help="1 wastes least on a shared CPU")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def build_teacher(args: argparse.Namespace) -> ImageEncoder:
    """A randomly initialised ViT for 28x28 grayscale images, with a Fashion-MNIST-normalizing processor."""
    torch.manual_seed(args.seed)
    config = transformers.ViTConfig(
        image_size=28,
        patch_size=args.patch_size,
        num_channels=1,
        hidden_size=args.hidden_size,
        num_hidden_layers=args.layers,
        num_attention_heads=4,
        intermediate_size=2 * args.hidden_size,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    processor = pil_processor_class("ViTImageProcessor")(
        size={"height": 28, "width": 28}, image_mean=[FASHION_MNIST_MEAN], image_std=[FASHION_MNIST_STD]
    )
    return ImageEncoder(transformers.ViTModel(config, add_pooling_layer=False), processor, pooling="cls")


def cosine_schedule(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup: int
) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total_steps - warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_teacher(
    encoder: ImageEncoder, pixels: torch.Tensor, labels: torch.Tensor, args: argparse.Namespace
) -> dict:
    """Supervised training of the ViT with a linear head on the CLS embedding (head discarded after)."""
    generator = torch.Generator().manual_seed(args.seed)
    head = nn.Linear(encoder.get_sentence_embedding_dimension(), 10)
    parameters = list(encoder.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=args.teacher_lr, weight_decay=0.05)
    steps_per_epoch = len(pixels) // args.batch_size
    scheduler = cosine_schedule(optimizer, steps_per_epoch * args.teacher_epochs, warmup=steps_per_epoch // 2)
    encoder.train()
    start = time.perf_counter()
    for epoch in range(args.teacher_epochs):
        order = torch.randperm(len(pixels), generator=generator)
        flips = torch.rand(len(pixels), generator=generator) < 0.5
        total, correct, loss_sum = 0, 0, 0.0
        for step in range(steps_per_epoch):
            index = order[step * args.batch_size : (step + 1) * args.batch_size]
            batch = pixels[index]
            batch = torch.where(flips[index].view(-1, 1, 1, 1), batch.flip(-1), batch)
            logits = head(encoder(batch)["sentence_embedding"])
            loss = nn.functional.cross_entropy(logits, labels[index], label_smoothing=0.1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss.detach()) * len(index)
            correct += int((logits.argmax(-1) == labels[index]).sum())
            total += len(index)
            if (step + 1) % 100 == 0:
                log(
                    f"teacher epoch {epoch + 1} step {step + 1}/{steps_per_epoch}: loss {loss_sum / total:.4f}"
                )
        log(
            f"teacher epoch {epoch + 1}/{args.teacher_epochs}: loss {loss_sum / total:.4f}, train acc {correct / total:.4f}"
        )
    encoder.eval()
    return {
        "epochs": args.teacher_epochs,
        "lr": args.teacher_lr,
        "seconds": round(time.perf_counter() - start, 1),
    }


def build_or_load_teacher(
    args: argparse.Namespace, train_images: np.ndarray, train_labels: np.ndarray
) -> ImageEncoder:
    folder = args.out / "teacher"
    if not (folder / "model.safetensors").is_file():
        teacher = build_teacher(args)
        pixels = preprocess_all(teacher, train_images)
        info = train_teacher(teacher, pixels, torch.from_numpy(train_labels), args)
        save_image_encoder(teacher, folder)
        (folder / "training.json").write_text(json.dumps(info, indent=2))
        log(f"teacher saved to {folder}")
    return load_image_encoder(folder)


def build_or_load_ptq(args: argparse.Namespace, teacher: ImageEncoder) -> None:
    folder = args.out / "ptq"
    if not (folder / "model.safetensors").is_file():
        config = vision_ternary_config(granularity=args.granularity, threshold=args.threshold)
        save_image_encoder(freeze(prepare(copy.deepcopy(teacher), config), config), folder, config)
        log(f"post-training ternarization saved to {folder}")


def build_or_load_student(args: argparse.Namespace, teacher: ImageEncoder, train_images: np.ndarray) -> None:
    folder = args.out / "student"
    if (folder / "model.safetensors").is_file():
        return
    config = vision_ternary_config(granularity=args.granularity, threshold=args.threshold)
    settings = DistillArguments(
        teacher=str(args.out / "teacher"),
        out=str(folder),
        epochs=args.distill_epochs,
        batch_size=args.batch_size,
        lr=args.distill_lr,
        lr_schedule="cosine",
        loss=args.loss,
        seed=args.seed,
        progress=False,
    )
    pixels = preprocess_all(teacher, train_images)
    student, info = distill_images(teacher, pixels, config, settings, prepare)
    save_image_encoder(freeze(student, config), folder, config)
    (folder / "distill.json").write_text(json.dumps({"arguments": settings.to_dict(), **info}, indent=2))
    log(f"distilled student saved to {folder}")


def evaluate(args: argparse.Namespace, test_images: np.ndarray) -> dict:
    names = ("teacher", "ptq", "student")
    models = {name: load_image_encoder(args.out / name) for name in names}
    rows = {}
    for name, model in models.items():
        started = time.perf_counter()
        rows[name] = {
            **fashion_mnist_scores(model),
            "cosine_to_teacher": embedding_cosine(models["teacher"], model, test_images[:2000]),
            "weights_bytes": folder_weight_bytes(args.out / name),
        }
        log(f"{name}: {rows[name]} ({time.perf_counter() - started:.0f} s)")
    pixels = models["teacher"].preprocess(test_images[:64])
    latency = {f"batch_{b}": latency_ms(models, pixels, b, repeats=50 if b == 1 else 15) for b in (1, 64)}
    for name in names:
        rows[name]["latency_ms"] = {key: values[name] for key, values in latency.items()}
    return rows


def markdown_report(results: dict) -> str:
    rows, teacher = results["models"], results["models"]["teacher"]
    lines = [
        "# Ternary ViT on Fashion-MNIST",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Teacher: ViT, hidden {results['teacher']['hidden_size']}, {results['teacher']['layers']} layers, patch "
        f"{results['teacher']['patch_size']} on 28x28 grayscale, trained {results['teacher']['training']['epochs']} "
        f"epochs with labels ({results['teacher']['training']['seconds']:.0f} s). Student: the same ViT ternarized "
        f"({results['ternary_config']['granularity']} scales, {results['ternary_config']['threshold']} threshold, "
        f"{results['ternary_config']['storage']}), distilled {results['distill']['steps']} steps on unlabeled "
        f"training images ({results['distill']['seconds']:.0f} s, loss `{results['distill']['loss']}`). "
        f"Threads: {results['threads']}; CPU shared with other jobs, so latencies are indicative.",
        "",
        "| model | linear probe | kept | 10-NN | kept | cosine to teacher | weights (bytes) | size ratio | "
        "latency b1 (ms) | ratio | latency b64 (ms) | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, label in (
        ("teacher", "teacher fp32"),
        ("ptq", "ternary, no training (PTQ)"),
        ("student", "ternary, distilled"),
    ):
        row = rows[name]
        lines.append(
            f"| {label} | {row['linear_probe_accuracy']:.4f} | "
            f"{row['linear_probe_accuracy'] / teacher['linear_probe_accuracy']:.1%} | {row['knn_accuracy']:.4f} | "
            f"{row['knn_accuracy'] / teacher['knn_accuracy']:.1%} | {row['cosine_to_teacher']:.4f} | "
            f"{row['weights_bytes']:,} | {row['weights_bytes'] / teacher['weights_bytes']:.3f} | "
            f"{row['latency_ms']['batch_1']:.2f} | {row['latency_ms']['batch_1'] / teacher['latency_ms']['batch_1']:.2f} | "
            f"{row['latency_ms']['batch_64']:.2f} | {row['latency_ms']['batch_64'] / teacher['latency_ms']['batch_64']:.2f} |"
        )
    kept = rows["student"]["linear_probe_accuracy"] / teacher["linear_probe_accuracy"]
    lines += [
        "",
        f"Done-when (student keeps >= 97% of the teacher's linear-probe accuracy): "
        f"{'met' if kept >= 0.97 else 'NOT met'} ({kept:.1%}).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = load_fashion_mnist("train")
    test_images, _ = load_fashion_mnist("test")
    teacher = build_or_load_teacher(args, train_images, train_labels)
    build_or_load_ptq(args, teacher)
    build_or_load_student(args, teacher, train_images)
    config = vision_ternary_config(granularity=args.granularity, threshold=args.threshold)
    results = {
        "command": "HF_HUB_OFFLINE=1 nice -n 10 python benchmarks/vision_fashion_mnist.py "
        + " ".join(sys.argv[1:]),
        "threads": args.threads,
        "teacher": {
            "hidden_size": args.hidden_size,
            "layers": args.layers,
            "patch_size": args.patch_size,
            "training": json.loads((args.out / "teacher" / "training.json").read_text()),
        },
        "ternary_config": config.to_dict(),
        "distill": json.loads((args.out / "student" / "distill.json").read_text()),
        "models": evaluate(args, test_images),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
    write_results(RESULTS_NAME, results, markdown_report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
