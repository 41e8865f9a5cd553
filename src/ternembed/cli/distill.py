"""`ternembed distill`: train a ternary student from a full-precision teacher on unlabeled texts."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

NAME = "distill"
HELP = "Distill a ternary copy of an embedding model from the original (self-taught, unlabeled texts)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ternembed.config import (
        ACTIVATION_MODES,
        EMBEDDING_PRECISIONS,
        STORAGE_FORMATS,
        THRESHOLD_RULES,
        TernaryConfig,
    )
    from ternembed.distill.arguments import LR_SCHEDULES, TEACHER_MATCHES, DistillArguments

    defaults = {f.name: f.default for f in dataclasses.fields(DistillArguments)}
    ternary = TernaryConfig()
    parser.add_argument(
        "model", help="teacher: a model name (all-MiniLM-L6-v2) or a sentence-transformers folder"
    )
    parser.add_argument("--out", required=True, help="output folder of the packed ternary student")
    data = parser.add_argument_group("data")
    data.add_argument("--data", nargs="+", default=[], metavar="PATH",
                      help=".txt (one text per line), .jsonl/.csv/.parquet, folders of those, or a saved "
                           "datasets folder; default: 50,000 texts of the general corpus (`ternembed corpus`), "
                           "built once and cached")  # fmt: skip
    data.add_argument("--text-field", default=defaults["text_field"], help="column/key holding the text")
    data.add_argument("--teacher-embeddings", metavar="VECTORS.parquet", default=None,
                      help="teacher vectors precomputed by `ternembed embed` (float32) instead of running the "
                           "teacher; only embedding-level loss terms (mse, cos, rkd, bank, matryoshka)")  # fmt: skip
    data.add_argument("--teacher-match", choices=TEACHER_MATCHES, default=defaults["teacher_match"],
                      help="find each training text's stored vector by its text, or by the --data records' ids")  # fmt: skip
    data.add_argument("--max-texts", type=int, default=None, help="use a seeded sample of at most N texts")
    data.add_argument(
        "--max-seq-length",
        type=int,
        default=defaults["max_seq_length"],
        help=f"cut training texts to N tokens (default {defaults['max_seq_length']}); the student keeps "
        "the teacher's own maximum sequence length for inference",
    )
    training = parser.add_argument_group("training")
    length = training.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, default=defaults["epochs"], help="passes over the corpus")
    length.add_argument("--max-steps", type=int, default=None, help="optimizer steps (instead of --epochs)")
    training.add_argument(
        "--batch-size",
        type=int,
        default=defaults["batch_size"],
        help="texts per forward pass; memory grows with it (512 x 128 tokens of MiniLM peaked at ~13 GB)",
    )
    training.add_argument(
        "--grad-accum",
        type=int,
        default=defaults["grad_accum"],
        help="forward passes per step: a smaller --batch-size times this keeps the step's texts in less memory",
    )
    training.add_argument("--lr", type=float, default=defaults["lr"], help="peak learning rate (AdamW)")
    training.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=defaults["lr_schedule"],
                          help="decay after warm-up")  # fmt: skip
    training.add_argument("--warmup-ratio", type=float, default=defaults["warmup_ratio"])
    training.add_argument("--weight-decay", type=float, default=defaults["weight_decay"])
    training.add_argument("--loss", default=defaults["loss"],
                          help="weighted terms from paper, hidden, mse, cos, rkd, layers, bank, contrast, matryoshka, "
                               "e.g. 'hidden:1,cos:1' or 'hidden:1,cos:1,matryoshka:0.5'")  # fmt: skip
    training.add_argument("--matryoshka-dims", type=_dims, default=defaults["matryoshka_dims"], metavar="N,N,...",
                          help="leading dimensions of the matryoshka term (default "
                               f"{','.join(map(str, defaults['matryoshka_dims']))}; those below the model's own)")  # fmt: skip
    training.add_argument("--rkd-temperature", type=float, default=defaults["rkd_temperature"],
                          help="temperature of the rkd, bank and contrast terms")  # fmt: skip
    training.add_argument("--bank-size", type=int, default=defaults["bank_size"],
                          help="training texts embedded by the teacher as the bank term's bank")  # fmt: skip
    training.add_argument("--ema", type=float, default=defaults["ema_decay"], metavar="DECAY",
                          help="replace the latent weights at the end by their moving average with this "
                               "decay, e.g. 0.99 (default 0: off)")  # fmt: skip
    training.add_argument("--progressive", type=float, default=defaults["progressive"], metavar="FRACTION",
                          help="ternarize progressively: blend latent and ternary weights, fully ternary "
                               "after this fraction of the steps, e.g. 0.3 (default 0: off)")  # fmt: skip
    training.add_argument("--learn-scales", action="store_true",
                          help="train a factor on each ternary scale of the linear layers")  # fmt: skip
    training.add_argument("--bf16", action="store_true", help="bf16 autocast for teacher and student")
    training.add_argument("--seed", type=int, default=defaults["seed"])
    quant = parser.add_argument_group("ternarization")
    quant.add_argument("--granularity", default=ternary.granularity, help="tensor, row or group:N")
    quant.add_argument("--threshold", choices=THRESHOLD_RULES, default=ternary.threshold)
    quant.add_argument("--storage", choices=STORAGE_FORMATS, default=ternary.storage)
    quant.add_argument("--embeddings", choices=EMBEDDING_PRECISIONS, default=ternary.embeddings)
    quant.add_argument("--activations", choices=ACTIVATION_MODES, default=ternary.activations)
    run = parser.add_argument_group("run")
    run.add_argument("--eval-every", type=int, default=defaults["eval_every"],
                     help="held-out evaluation every N steps (0: at the end only)")  # fmt: skip
    run.add_argument("--eval-texts", type=int, default=defaults["eval_texts"], help="held-out texts")
    run.add_argument("--save-every", type=int, default=defaults["save_every"],
                     help="checkpoint every N steps; a kill loses at most N steps")  # fmt: skip
    run.add_argument("--resume", action="store_true", help="continue an interrupted run in the same --out")
    run.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    run.add_argument("--threads", type=int, default=None, help="CPU threads (default: the idle cores)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--eval", metavar="BEIR_DIR|CSV", default=None,
                     help="at the end, score the student beside the teacher on your data: a BEIR folder, an "
                          "STS CSV or a classification CSV (see `ternembed eval`); default: none")  # fmt: skip
    run.add_argument("--keep-latent", action="store_true",
                     help="also keep the student's latent weights (training/ in --out) for `ternembed soup`")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from ternembed.cli.main import CliError
    from ternembed.config import TernaryConfig
    from ternembed.distill import DistillArguments, distill

    try:
        import accelerate  # noqa: F401  (the training engine; an optional dependency)
    except ImportError as error:
        raise CliError("ternembed distill needs accelerate: pip install 'ternembed[distill]'") from error

    settings = {
        name: getattr(args, name)
        for name in ("granularity", "threshold", "storage", "embeddings", "activations")
    }
    config = TernaryConfig(**settings)
    distill_args = DistillArguments(
        teacher=args.model,
        out=args.out,
        data=tuple(args.data),
        text_field=args.text_field,
        max_texts=args.max_texts,
        epochs=args.epochs,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        max_seq_length=args.max_seq_length,
        lr=args.lr,
        lr_schedule=args.lr_schedule,
        warmup_ratio=args.warmup_ratio,
        weight_decay=args.weight_decay,
        loss=args.loss,
        rkd_temperature=args.rkd_temperature,
        bank_size=args.bank_size,
        eval_every=args.eval_every,
        eval_texts=args.eval_texts,
        save_every=args.save_every,
        seed=args.seed,
        bf16=args.bf16,
        overwrite=args.overwrite,
        resume=args.resume,
        threads=args.threads,
        progress=not args.no_progress,
        keep_latent=args.keep_latent,
        ema_decay=args.ema,
        progressive=args.progressive,
        learn_scales=args.learn_scales,
        matryoshka_dims=args.matryoshka_dims,
        teacher_embeddings=args.teacher_embeddings,
        teacher_match=args.teacher_match,
    )
    if args.eval is not None:
        from ternembed.eval.tasks import resolve_task

        if not Path(args.eval).expanduser().exists():
            raise CliError(f"--eval {args.eval}: no such file or folder (a BEIR folder or a CSV)")
        resolve_task(args.eval)  # a malformed CSV header fails now, not after training
    hooks = _image_hooks(args, settings)
    result = distill(distill_args, hooks.pop("config", config), **hooks)
    if result.out is not None:
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in result.final_eval.items() if k != "step")
        print(f"saved {result.out} ({result.steps} steps, {result.train_seconds:.0f} s, "
              f"{result.items_per_second:.1f} texts/s{'; held-out ' + metrics if metrics else ''})")  # fmt: skip
        if args.eval is not None:
            _evaluate_on_user_data(result.out, args.model, args.eval)
    return 0


def _dims(text: str) -> tuple[int, ...]:
    """``"64,128,256"`` as a tuple of positive integers (argparse reports a bad value in one line)."""
    try:
        dims = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if not dims or min(dims) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must list positive dimensions, e.g. 64,128,256")
    return dims


def _evaluate_on_user_data(student: Path, teacher: str, data: str) -> None:
    """Print the student's scores beside the teacher's on the user's own evaluation data."""
    from ternembed.eval.models import load_model
    from ternembed.eval.report import summary, table
    from ternembed.eval.runner import evaluate

    print(f"evaluating {student} beside {teacher} on {data} ...", file=sys.stderr, flush=True)
    report = evaluate(load_model(str(student)), str(student), [data], baseline=load_model(teacher),
                      baseline_name=teacher)  # fmt: skip
    print(table(summary(report)))


def _image_hooks(args: argparse.Namespace, settings: dict[str, str]) -> dict[str, Any]:
    """For an image teacher: the loaded encoder, its images, the image batch encoder, prepare and save.

    Images come from ``--data`` (folders, .npy arrays, IDX files) or, by default, the unlabeled
    Fashion-MNIST training images. Text teachers get no hooks (the loop's text defaults apply).
    """
    from ternembed.vision.models import is_image_model

    if not is_image_model(args.model):
        return {}
    from ternembed.data.fashion_mnist import load_fashion_mnist
    from ternembed.vision import load_image_model, load_images, prepare_image_encoder
    from ternembed.vision.distill import ImageBatchEncoder, save_image_student
    from ternembed.vision.models import default_image_config

    teacher = load_image_model(args.model)
    images = [image for path in args.data for image in load_images(path)] if args.data else None
    if images is None:
        images = list(load_fashion_mnist("train")[0])
    if args.max_texts is not None:
        images = images[: args.max_texts]
    image_settings = {
        k: v for k, v in settings.items() if k != "embeddings"
    }  # vision embeddings are convs/params
    return {
        "config": default_image_config(teacher, **image_settings),
        "teacher": teacher,
        "items": images,
        "encoder": ImageBatchEncoder(teacher),
        "prepare_student": prepare_image_encoder,
        "save_student": save_image_student,
    }
