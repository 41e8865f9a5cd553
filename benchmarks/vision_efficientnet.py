"""EfficientNet-Lite0 (ImageNet) with ternary 1x1 convolutions and classifier, on Fashion-MNIST.

The only real pretrained image model available offline. Its pooled final features are the embedding.
Every 1x1 (pointwise) convolution and the classifier are ternarized (they are linear maps over
channels); the stem, the depthwise 3x3/5x5 convolutions and the batch norms stay full precision.
Compared, each loaded back from its folder: the fp32 original; post-training ternarization (PTQ);
PTQ followed by batch-norm recalibration on unlabeled images (a forward pass, no training); a short
self-distillation on unlabeled Fashion-MNIST training images (upsampled, gray -> RGB); and the same
distillation started from the batch-norm-recalibrated PTQ model. Measured:

- linear probe and cosine 10-NN accuracy (the evaluation suite's protocol) on fixed class-balanced
  subsets of the train split (probe fit) and the test split (scoring);
- teacher-student cosine of embeddings and top-1 agreement of the (ternary) ImageNet classifier;
- weight-file size and CPU forward latency.

Fixed seeds and data order. Run from the repository root:

    HF_HUB_OFFLINE=1 nice -n 10 python benchmarks/vision_efficientnet.py --out runs/vision/efficientnet

Writes ``benchmarks/results/vision_efficientnet.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
import transformers
from vision_common import distill_images, latency_ms, log, preprocess_all, write_results

from ternembed.config import TernaryConfig
from ternembed.data.fashion_mnist import load_fashion_mnist
from ternembed.distill import DistillArguments
from ternembed.eval.image_tasks import embedding_scores, first_per_class
from ternembed.quantize import ternary_layers
from ternembed.vision import ImageEncoder
from ternembed.vision.calibration import recalibrate_batch_norm
from ternembed.vision.efficientnet import efficientnet_ternary_config, load_efficientnet_lite0
from ternembed.vision.io import folder_weight_bytes, load_image_encoder, save_image_encoder
from ternembed.vision.quantize import freeze_image_encoder, prepare_image_encoder

RESULTS_NAME = "vision_efficientnet"
NAMES = ("teacher", "ptq", "ptq_bn", "student_plain", "student")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("runs/vision/efficientnet"), help="run folder (cache)"
    )
    parser.add_argument(
        "--image-size", type=int, default=64, help="input resolution (28x28 images are upsampled)"
    )
    parser.add_argument(
        "--distill-images", type=int, default=2000, help="unlabeled images from the train split's end"
    )
    parser.add_argument("--distill-steps", type=int, default=120)
    parser.add_argument(
        "--calibration-images", type=int, default=512, help="unlabeled images for batch-norm stats"
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--loss", default="hidden:1,cos:1", help="loss spec of ternembed.distill")
    parser.add_argument("--granularity", default="row", help="tensor | row | group:N")
    parser.add_argument("--probe-per-class", type=int, default=100, help="images per class, train and test")
    parser.add_argument("--threads", type=int, default=1, help="1 wastes least on a shared CPU")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def build_folders(args: argparse.Namespace, train_images: np.ndarray) -> None:
    """teacher (fp32), ptq and student (packed) folders under ``args.out``, each built once."""
    config = efficientnet_ternary_config(granularity=args.granularity)
    teacher = load_efficientnet_lite0(args.image_size)
    if not (args.out / "teacher" / "model.safetensors").is_file():
        save_image_encoder(teacher, args.out / "teacher")
    if not (args.out / "ptq" / "model.safetensors").is_file():
        ptq = freeze_image_encoder(prepare_image_encoder(copy.deepcopy(teacher), config), config)
        save_image_encoder(ptq, args.out / "ptq", config)
        log("post-training ternarization saved")
    pixels = preprocess_all(teacher, train_images[-args.distill_images :])
    calibration = pixels[: args.calibration_images]
    if not (args.out / "ptq_bn" / "model.safetensors").is_file():
        ptq_bn = prepare_image_encoder(copy.deepcopy(teacher), config)
        recalibrate_batch_norm(ptq_bn, calibration)
        save_image_encoder(freeze_image_encoder(ptq_bn, config), args.out / "ptq_bn", config)
        log("post-training ternarization + batch-norm recalibration saved")

    def prepare_and_recalibrate(model: ImageEncoder, config: TernaryConfig) -> ImageEncoder:
        recalibrate_batch_norm(prepare_image_encoder(model, config), calibration)
        return model

    for name, prepare_fn in (("student_plain", prepare_image_encoder), ("student", prepare_and_recalibrate)):
        if not (args.out / name / "model.safetensors").is_file():
            distill_student(args, teacher, pixels, config, name, prepare_fn)


def distill_student(
    args: argparse.Namespace,
    teacher: ImageEncoder,
    pixels: torch.Tensor,
    config: TernaryConfig,
    name: str,
    prepare_fn: Callable[[ImageEncoder, TernaryConfig], ImageEncoder],
) -> None:
    """Distill, freeze and save one student to ``args.out / name``, with its run settings beside it."""
    settings = DistillArguments(
        teacher="efficientnet-lite0",
        out=str(args.out / name),
        max_steps=args.distill_steps,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_schedule="cosine",
        loss=args.loss,
        seed=args.seed,
        progress=False,
    )
    student, info = distill_images(teacher, pixels, config, settings, prepare_fn)
    save_image_encoder(freeze_image_encoder(student, config), args.out / name, config)
    info["unlabeled_images"] = args.distill_images
    info["calibration_images"] = args.calibration_images if name == "student" else 0
    (args.out / name / "distill.json").write_text(
        json.dumps({"arguments": settings.to_dict(), **info}, indent=2)
    )
    log(f"distilled {name} saved")


@torch.inference_mode()
def embeddings_and_classes(encoder: ImageEncoder, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pooled embeddings and the ImageNet top-1 class of each image."""
    embeddings = torch.from_numpy(encoder.encode(images, batch_size=64))
    return embeddings.numpy(), encoder.model.classify(embeddings).argmax(-1).numpy()


def evaluate(args: argparse.Namespace) -> dict:
    train_images, train_labels = load_fashion_mnist("train")
    test_images, test_labels = load_fashion_mnist("test")
    train_keep = first_per_class(train_labels, args.probe_per_class)
    test_keep = first_per_class(test_labels, args.probe_per_class)
    models = {name: load_image_encoder(args.out / name) for name in NAMES}
    rows, outputs = {}, {}
    for name, model in models.items():
        started = time.perf_counter()
        train_embeddings, _ = embeddings_and_classes(model, train_images[train_keep])
        test_embeddings, classes = embeddings_and_classes(model, test_images[test_keep])
        outputs[name] = (test_embeddings, classes)
        scores = embedding_scores(
            train_embeddings, train_labels[train_keep], test_embeddings, test_labels[test_keep]
        )
        teacher_embeddings, teacher_classes = outputs["teacher"]
        cosine = (test_embeddings * teacher_embeddings).sum(1) / (
            np.linalg.norm(test_embeddings, axis=1) * np.linalg.norm(teacher_embeddings, axis=1) + 1e-12
        )
        rows[name] = {
            "linear_probe_accuracy": scores["accuracy"],
            "knn_accuracy": scores["knn_accuracy"],
            "cosine_to_teacher": float(cosine.mean()),
            "imagenet_top1_agreement": float((classes == teacher_classes).mean()),
            "weights_bytes": folder_weight_bytes(args.out / name),
        }
        log(f"{name}: {rows[name]} ({time.perf_counter() - started:.0f} s)")
    pixels = models["teacher"].preprocess(test_images[:16])
    latency = {f"batch_{b}": latency_ms(models, pixels, b, repeats=20 if b == 1 else 5) for b in (1, 16)}
    for name in NAMES:
        rows[name]["latency_ms"] = {key: values[name] for key, values in latency.items()}
    return rows


def markdown_report(results: dict) -> str:
    rows, teacher = results["models"], results["models"]["teacher"]
    distill = results["distill"]
    lines = [
        "# EfficientNet-Lite0 with ternary 1x1 convolutions, on Fashion-MNIST",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Input {results['image_size']}x{results['image_size']} (Fashion-MNIST upsampled, gray -> RGB). Ternary: "
        f"{results['ternary_layers']} layers (every 1x1 convolution + classifier, "
        f"{results['ternary_config']['granularity']} scales). Distillation: {distill['steps']} steps x "
        f"{results['batch_size']} images from {distill['unlabeled_images']} unlabeled training images "
        f"({distill['seconds']:.0f} s, loss `{distill['loss']}`, lr {distill['lr']}), after batch-norm "
        f"recalibration on {distill['calibration_images']} of them. Probe/k-NN on "
        f"{results['probe_per_class']} images per class from each split. Threads: {results['threads']}; "
        "CPU shared with other jobs, so latencies are indicative.",
        "",
        "| model | linear probe | kept | 10-NN | kept | cosine to teacher | ImageNet top-1 agreement | "
        "weights (bytes) | size ratio | latency b1 (ms) | latency b16 (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    labels = {
        "teacher": "fp32 original",
        "ptq": "ternary, no training (PTQ)",
        "ptq_bn": "ternary PTQ + batch-norm recalibration",
        "student_plain": "ternary, distilled",
        "student": "ternary, BN recalibration + distilled",
    }
    for name in NAMES:
        row = rows[name]
        lines.append(
            f"| {labels[name]} | {row['linear_probe_accuracy']:.4f} | "
            f"{row['linear_probe_accuracy'] / teacher['linear_probe_accuracy']:.1%} | {row['knn_accuracy']:.4f} | "
            f"{row['knn_accuracy'] / teacher['knn_accuracy']:.1%} | {row['cosine_to_teacher']:.4f} | "
            f"{row['imagenet_top1_agreement']:.3f} | {row['weights_bytes']:,} | "
            f"{row['weights_bytes'] / teacher['weights_bytes']:.3f} | {row['latency_ms']['batch_1']:.1f} | "
            f"{row['latency_ms']['batch_16']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    train_images, _ = load_fashion_mnist("train")
    build_folders(args, train_images)
    config = efficientnet_ternary_config(granularity=args.granularity)
    ternary_count = len(ternary_layers(load_image_encoder(args.out / "student").model))
    results = {
        "command": "HF_HUB_OFFLINE=1 nice -n 10 python benchmarks/vision_efficientnet.py "
        + " ".join(sys.argv[1:]),
        "image_size": args.image_size,
        "batch_size": args.batch_size,
        "probe_per_class": args.probe_per_class,
        "threads": args.threads,
        "ternary_layers": ternary_count,
        "ternary_config": config.to_dict(),
        "distill": json.loads((args.out / "student" / "distill.json").read_text()),
        "models": evaluate(args),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
    write_results(RESULTS_NAME, results, markdown_report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
