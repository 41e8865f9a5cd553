"""Ternary ViT on Fashion-MNIST: train a teacher, ternarize it by self-distillation, compare.

Stages (each cached in ``--out``, so a rerun resumes after the last finished stage):
1. teacher: a small ViT (28x28 grayscale, patch 4) trained with labels on the 60k training images;
2. ptq: the teacher ternarized without training (post-training quantization);
3. student: the teacher ternarized and distilled on the *unlabeled* training images (hidden-state
   MSE over all tokens, the paper's loss, plus a CLS-embedding MSE; straight-through estimator);
4. evaluation on the 10k test images: linear probe (logistic regression fit on train embeddings)
   and k-NN (k=10, cosine), packed size and CPU latency, for teacher, PTQ and student.

Deterministic: fixed seeds, fixed thread count, fixed data order. Run:

    HF_HUB_OFFLINE=1 nice -n 10 python benchmarks/vision_fashion_mnist.py --out runs/vision/fashion_mnist

Writes ``benchmarks/results/vision_fashion_mnist.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
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

from ternembed.data.fashion_mnist import load_fashion_mnist
from ternembed.vision import ImageEncoder
from ternembed.vision.io import save_image_encoder
from ternembed.vision.processor import _quiet_processor_class

RESULTS_DIR = Path(__file__).resolve().parent / "results"
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("runs/vision/fashion_mnist"), help="run folder (cache)"
    )
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--patch-size", type=int, default=4)
    parser.add_argument("--teacher-epochs", type=int, default=6)
    parser.add_argument("--teacher-lr", type=float, default=1e-3)
    parser.add_argument("--distill-epochs", type=int, default=2)
    parser.add_argument("--distill-lr", type=float, default=5e-4)
    parser.add_argument("--granularity", default="row", help="tensor | row | group:N")
    parser.add_argument("--threshold", default="optimal", help="paper | absmean | optimal")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


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
    processor = _quiet_processor_class("ViTImageProcessor")(
        size={"height": 28, "width": 28}, image_mean=[FASHION_MNIST_MEAN], image_std=[FASHION_MNIST_STD]
    )
    return ImageEncoder(transformers.ViTModel(config, add_pooling_layer=False), processor, pooling="cls")


def preprocess_all(encoder: ImageEncoder, images: np.ndarray, chunk: int = 2048) -> torch.Tensor:
    """``pixel_values`` for every image, through the encoder's own processor (as ``encode`` does)."""
    return torch.cat([encoder.preprocess(images[i : i + chunk]) for i in range(0, len(images), chunk)])


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
            logits = head(encoder(batch))
            loss = nn.functional.cross_entropy(logits, labels[index], label_smoothing=0.1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss) * len(index)
            correct += int((logits.argmax(-1) == labels[index]).sum())
            total += len(index)
        log(
            f"teacher epoch {epoch + 1}/{args.teacher_epochs}: loss {loss_sum / total:.4f}, train acc {correct / total:.4f}"
        )
    encoder.eval()
    return {
        "epochs": args.teacher_epochs,
        "lr": args.teacher_lr,
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = load_fashion_mnist("train")
    teacher_dir = args.out / "teacher"
    if not (teacher_dir / "model.safetensors").is_file():
        teacher = build_teacher(args)
        pixels = preprocess_all(teacher, train_images)
        info = train_teacher(teacher, pixels, torch.from_numpy(train_labels), args)
        save_image_encoder(teacher, teacher_dir)
        (teacher_dir / "training.json").write_text(json.dumps(info, indent=2))
        log(f"teacher saved to {teacher_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
