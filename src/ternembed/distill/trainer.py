"""The distillation loop: frozen teacher, ternary student, straight-through training, checkpoints.

The loop runs under `accelerate <https://huggingface.co/docs/accelerate>`_, so the same call works in
one process, under ``torchrun`` (DDP; gloo on CPU, NCCL on GPUs) and under ``accelerate launch``.
Every rank reads the same corpus and batch plan and takes its own share of each step's batches;
only rank 0 writes files.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ternembed.config import CONFIG_FILENAME, TernaryConfig
from ternembed.distill.arguments import ArgumentError, DistillArguments
from ternembed.distill.averaging import LatentEMA, split_checkpoint_state
from ternembed.distill.batching import StepPlan
from ternembed.distill.checkpoint import (
    CheckpointError,
    checkpoint_state,
    load_checkpoint,
    save_checkpoint,
    save_latent,
)
from ternembed.distill.corpus import corpus_fingerprint, load_texts
from ternembed.distill.default_corpus import default_corpus_path
from ternembed.distill.encoders import BatchEncoder, EncoderOutput, TextBatchEncoder, set_hidden_states
from ternembed.distill.evaluation import embed_items, fidelity, to_device
from ternembed.distill.losses import LossSpec, distillation_loss
from ternembed.distill.progress_log import ProgressLog
from ternembed.distill.progressive import learn_scales, set_ternary_mix, ternary_mix
from ternembed.distill.run_folder import RUN_CONFIG_FILE, RunFolder
from ternembed.distill.teacher_embeddings import TeacherEmbeddingsError, load_teacher_embeddings
from ternembed.errors import TernembedError
from ternembed.matryoshka import full_dimension, usable_dims
from ternembed.perf.cpu import has_native_bf16
from ternembed.quantize import prepare, ternary_layers

EVAL_BATCH_SIZE = 64
CHECKPOINT_SECONDS = 300.0
"""A checkpoint is also written when this long has passed since the last one, whatever --save-every says."""

StudentSaver = Callable[[nn.Module, Path, TernaryConfig, dict[str, Any]], None]
"""``saver(student, folder, config, run_config)``: writes the finished student and its run config."""


class TeacherIsTernaryError(TernembedError, ValueError):
    """The teacher is already a ternary model; distillation needs the full-precision original."""


class DivergedError(TernembedError, ValueError):
    """Training produced non-finite weights or fidelity; the student is not saved."""


class CorpusTooSmallError(TernembedError, ValueError):
    """The corpus cannot fill one optimizer step."""


@dataclass
class DistillResult:
    """What a run produced.

    Attributes:
        out: the saved folder (None on ranks other than 0).
        steps: optimizer steps of the run.
        train_seconds: time in training steps over all sessions (no loading, evaluation or saving).
        items_per_second: training items per second over all processes.
        final_eval: held-out fidelity at the end (rank 0 only).
        student: the trained, not yet frozen, student (None when the run had already finished).
    """

    out: Path | None
    steps: int
    train_seconds: float
    items_per_second: float
    final_eval: dict[str, float] = field(default_factory=dict)
    student: nn.Module | None = None


def distill(
    args: DistillArguments,
    config: TernaryConfig | None = None,
    *,
    teacher: nn.Module | None = None,
    items: Sequence[Any] | None = None,
    encoder: BatchEncoder | None = None,
    save_student: StudentSaver | None = None,
    prepare_student: Callable[[nn.Module, TernaryConfig], nn.Module] = prepare,
) -> DistillResult:
    """Distill a ternary student from ``args.teacher`` and save it, frozen, to ``args.out``.

    Args:
        args: the run's settings.
        config: how the student is ternarized (default :class:`TernaryConfig`).
        teacher: an already loaded full-precision model (default: load ``args.teacher`` as a
            SentenceTransformer).
        items: training items (default: texts from ``args.data``); images for a vision encoder.
        encoder: the :class:`BatchEncoder` for the items (default: :class:`TextBatchEncoder`).
        save_student: writes the trained student into the staging folder (default: freeze a copy and
            save it with :func:`ternembed.io.save`, the run config beside it); e.g.
            :func:`ternembed.vision.distill.save_image_student` for image encoders.
        prepare_student: makes the trainable ternary student from a copy of the teacher (default
            :func:`ternembed.prepare`; :func:`ternembed.vision.prepare_image_encoder` also covers 1x1 convs).
    """
    from accelerate import Accelerator, DistributedDataParallelKwargs

    config = config or TernaryConfig()
    spec = LossSpec.parse(args.loss)
    accelerator = Accelerator(
        cpu=not torch.cuda.is_available(),  # lets accelerate pick gloo DDP under torchrun on CPU-only machines
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )
    main, rank, world = accelerator.is_main_process, accelerator.process_index, accelerator.num_processes
    threads = _set_threads(accelerator.device, args.threads)
    if args.bf16 and accelerator.device.type == "cpu" and has_native_bf16() is False:
        _log(main, "warning: this CPU has no AVX512-BF16 or AMX-BF16, so --bf16 is emulated: a MiniLM run "
             "went 4x slower than fp32 on such a CPU; drop --bf16 here")  # fmt: skip
    folder = RunFolder(args.out)
    inputs = [args.teacher, *args.data]
    if folder.finished and args.resume and not args.overwrite and not _has_new_checkpoint(folder):
        return _already_finished(folder, args, config, main)
    folder.check(args.overwrite, args.resume, inputs)

    teacher = teacher if teacher is not None else load_teacher(args.teacher)
    _check_full_precision(teacher, args.teacher)
    if encoder is None:  # training texts are cut to args.max_seq_length; the student keeps the teacher's
        encoder = TextBatchEncoder(teacher, args.max_seq_length)
    corpus_paths = [str(path) for path in args.data]
    if items is None:
        items = load_texts(args.data, args.text_field, args.max_texts, args.seed)
        corpus_paths = corpus_paths or [str(default_corpus_path())]  # the cached default, built by load_texts
    train_items, eval_items = _split_held_out(items, args.eval_texts, args.seed)
    plan = StepPlan(encoder.lengths(train_items), args.batch_size, args.grad_accum, world, args.seed)
    if plan.steps_per_epoch == 0:
        raise CorpusTooSmallError(
            f"{len(train_items)} training items cannot fill one optimizer step of {plan.batches_per_step} "
            f"batches of {args.batch_size}; lower --batch-size or --grad-accum, or add data"
        )
    total_steps = args.max_steps or plan.steps_per_epoch * args.epochs
    fingerprint = corpus_fingerprint(items)
    stored = _stored_teacher_embeddings(args, spec, teacher, train_items)

    device = accelerator.device

    def autocast() -> torch.autocast:  # our own, not accelerate's: its precision is fixed per process
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16)

    teacher.to(device).eval().requires_grad_(False)
    student = prepare_student(copy.deepcopy(teacher), config).to(device).eval()
    if args.learn_scales:
        learn_scales(student)
    set_hidden_states(teacher, spec.needs_hidden_states)
    set_hidden_states(student, spec.needs_hidden_states)
    student.requires_grad_(True)
    parameters = [p for p in student.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=args.lr, weight_decay=args.weight_decay)
    ema = LatentEMA(student, args.ema_decay) if args.ema_decay > 0 else None

    start_step, train_seconds, items_seen, history = 0, 0.0, 0, []
    run_id = uuid.uuid4().hex  # tells this run's checkpoint from the one a finished OUT was made by
    checkpoint = load_checkpoint(folder.partial) if args.resume else None
    if checkpoint is not None:
        model_state, optimizer_state, state = checkpoint
        _check_resumable(state, args, config, fingerprint, world)
        model_state, shadows = split_checkpoint_state(model_state)
        student.load_state_dict(model_state)
        if ema is not None:
            ema.restore(shadows)
        optimizer.load_state_dict(optimizer_state)
        start_step, train_seconds, history = state["step"], state["train_seconds"], state["history"]
        items_seen, run_id = state["items_seen"], state.get("run_id", run_id)
        _log(main, f"resuming {folder.partial} from step {start_step}/{total_steps}")
    if main:
        folder.open(args.overwrite, args.resume, inputs)
    accelerator.wait_for_everyone()

    wrapped, optimizer = accelerator.prepare(student, optimizer)
    teacher_eval = (
        embed_items(encoder, teacher, eval_items, EVAL_BATCH_SIZE, device, autocast)
        if main and len(eval_items) > 1
        else None
    )

    bank = (
        _teacher_bank(encoder, teacher, train_items, args, device, autocast, stored)
        if spec.needs_bank
        else None
    )

    def evaluate(step: int) -> dict[str, float]:
        if teacher_eval is None:
            return {}
        student_eval = embed_items(encoder, student, eval_items, EVAL_BATCH_SIZE, device, autocast)
        metrics = {"step": step, **fidelity(teacher_eval, student_eval)}
        history.append(metrics)
        return metrics

    def model_state() -> dict[str, torch.Tensor]:
        return {**student.state_dict(), **(ema.checkpoint_state() if ema is not None else {})}

    def state(step: int) -> dict[str, Any]:
        return {
            "step": step, "total_steps": total_steps, "train_seconds": train_seconds, "items_seen": items_seen,
            "history": history,
            "arguments": args.to_dict(), "ternary_config": config.to_dict(), "corpus_fingerprint": fingerprint,
            "world_size": world, "run_id": run_id,
        }  # fmt: skip

    _log(main, f"distilling {len(train_items)} items for {total_steps} steps on {world} x {device}"
         + (f" ({threads} threads)" if device.type == "cpu" else ""))  # fmt: skip
    progress = _progress_bar(total_steps, start_step, main and args.progress)
    log = ProgressLog(
        total_steps, start_step, periodic=not args.progress, write=lambda line: _log(main, line)
    )
    session_items, session_seconds = 0, 0.0
    last_save = time.monotonic()
    for step in range(start_step, total_steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, total_steps, args)
        set_ternary_mix(student, ternary_mix(step, total_steps, args.progressive))
        started = time.perf_counter()
        loss_terms: dict[str, float] = {}
        for micro_step in range(args.grad_accum):
            indices = plan.batch(step, micro_step, rank)
            batch = to_device(encoder.collate([train_items[i] for i in indices]), device)
            if stored is not None:
                teacher_output = EncoderOutput(stored[indices].to(device), None, None)
            else:
                with torch.no_grad(), autocast():
                    teacher_output = encoder.encode(teacher, batch, spec.needs_hidden_states)
            last = micro_step == args.grad_accum - 1
            with nullcontext() if last else accelerator.no_sync(wrapped):
                with autocast():
                    student_output = encoder.encode(wrapped, batch, spec.needs_hidden_states)
                    loss, terms = distillation_loss(
                        spec, student_output, teacher_output, args.rkd_temperature, bank, args.matryoshka_dims
                    )
                accelerator.backward(loss / args.grad_accum)
            for name, value in terms.items():
                loss_terms[name] = loss_terms.get(name, 0.0) + value / args.grad_accum
            session_items += len(indices) * world
            items_seen += len(indices) * world
        if args.max_grad_norm > 0:
            accelerator.clip_grad_norm_(parameters, args.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if ema is not None:
            ema.update(step)
        session_seconds += time.perf_counter() - started
        train_seconds += time.perf_counter() - started
        done = step + 1
        progress.update(1)
        progress.set_postfix(
            loss=f"{float(loss.detach()):.4g}",
            items_s=f"{session_items / session_seconds:.0f}",
            refresh=False,
        )
        log.step(done, session_items / session_seconds)
        if main and args.eval_every and done % args.eval_every == 0 and done < total_steps:
            progress.write(_format_metrics(evaluate(done), loss_terms))
        by_steps = args.save_every and done % args.save_every == 0
        by_time = args.save_every and world == 1 and time.monotonic() - last_save > CHECKPOINT_SECONDS
        if (by_steps or by_time) and done < total_steps:  # several processes agree on steps, not on clocks
            if main:
                save_checkpoint(folder.partial, model_state(), optimizer.state_dict(), state(done))
                last_save = time.monotonic()
            accelerator.wait_for_everyone()
    progress.close()
    set_ternary_mix(student, 1.0)  # what is evaluated and saved is fully ternary

    items_per_second = items_seen / train_seconds if train_seconds > 0 else 0.0
    if main:
        save_checkpoint(folder.partial, model_state(), optimizer.state_dict(), state(total_steps))
        if ema is not None:
            ema.copy_to_module()
        final_eval = evaluate(total_steps)
        _check_not_diverged(student, final_eval, folder.partial, args.lr)
        _log(main, f"trained {total_steps} steps in {train_seconds:.1f} s ({items_per_second:.1f} items/s); "
             + _format_metrics(final_eval, {}))  # fmt: skip
        run_config = {
            **state(total_steps), "items_per_second": items_per_second, "final_eval": final_eval,
            "corpus": {"items": len(items), "train_items": len(train_items), "held_out_items": len(eval_items),
                       "fingerprint": fingerprint, "data": corpus_paths, "built_corpora": _corpus_manifests(corpus_paths)},
            "device": str(device), "versions": _versions(),
        }  # fmt: skip
        saver = save_student or _save_student

        def write(path: Path) -> None:
            saver(student, path, config, run_config)
            if args.keep_latent:
                save_latent(student, path)

        out = folder.finish(write)
    else:
        out, final_eval = None, {}
    accelerator.wait_for_everyone()
    return DistillResult(out, total_steps, train_seconds, items_per_second, final_eval, student)


def _check_not_diverged(student: nn.Module, final_eval: dict[str, float], partial: Path, lr: float) -> None:
    """Refuse to save a student whose weights or held-out cosine are not finite."""
    cosine = final_eval.get("cosine", 0.0)
    weights_finite = all(bool(torch.isfinite(p).all()) for p in student.parameters() if p.is_floating_point())
    if weights_finite and math.isfinite(cosine):
        return
    what = "weights" if not weights_finite else f"held-out cosine to the teacher ({cosine})"
    raise DivergedError(
        f"training diverged: the student's {what} are not finite, so nothing was saved "
        f"(the last checkpoint stays in {partial}); rerun with a lower --lr than {lr:g}"
    )


def _corpus_manifests(paths: Sequence[str]) -> dict[str, str]:
    """Fingerprints of the ``ternembed corpus`` files among ``paths`` (from the manifest beside each)."""
    found = {}
    for path in paths:
        manifest = Path(path).with_suffix(".json")
        if Path(path).suffix == ".txt" and manifest.is_file():
            try:
                found[str(path)] = json.loads(manifest.read_text())["fingerprint"]
            except (ValueError, KeyError, TypeError):
                continue
    return found


def load_teacher(name_or_path: str) -> nn.Module:
    """The full-precision SentenceTransformer to distill from; refuses a packed ternary folder."""
    from ternembed.models import load_sentence_transformer, resolve_model

    path = resolve_model(name_or_path)
    if (Path(path) / CONFIG_FILENAME).is_file():
        raise TeacherIsTernaryError(
            f"teacher {name_or_path!r} is a ternary model ({CONFIG_FILENAME} found); "
            "distill from the full-precision original instead"
        )
    return load_sentence_transformer(path)


def learning_rate(step: int, total_steps: int, args: DistillArguments) -> float:
    """Linear warm-up to ``args.lr``, then the schedule's decay, as a pure function of the step."""
    warmup = int(args.warmup_ratio * total_steps)
    if step < warmup:
        return args.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    if args.lr_schedule == "linear":
        return args.lr * (1.0 - progress)
    if args.lr_schedule == "cosine":
        return args.lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    return args.lr


def _teacher_bank(
    encoder: BatchEncoder,
    teacher: nn.Module,
    items: Sequence[Any],
    args: DistillArguments,
    device: torch.device,
    autocast: Callable[[], Any],
    stored: torch.Tensor | None = None,
) -> torch.Tensor:
    """Normalized teacher embeddings of a seeded sample of ``args.bank_size`` training items, on ``device``
    (taken from ``stored`` precomputed embeddings when given)."""
    count = min(args.bank_size, len(items))
    rows = sorted(random.Random(args.seed + 1).sample(range(len(items)), count))
    if stored is not None:
        return torch.nn.functional.normalize(stored[rows], dim=-1).to(device)
    sample = [items[i] for i in rows]
    return embed_items(encoder, teacher, sample, EVAL_BATCH_SIZE, device, autocast).to(device)


def _stored_teacher_embeddings(
    args: DistillArguments, spec: LossSpec, teacher: nn.Module, train_items: Sequence[Any]
) -> torch.Tensor | None:
    """Check the matryoshka dims against the teacher, and read ``--teacher-embeddings`` when given."""
    if any(name == "matryoshka" for name, _ in spec.weights):
        dimension = full_dimension(teacher)
        if not usable_dims(args.matryoshka_dims, dimension):
            raise ArgumentError(
                f"the 'matryoshka' loss needs --matryoshka-dims below the teacher's {dimension} dimensions, "
                f"got {list(args.matryoshka_dims)}"
            )
    if args.teacher_embeddings is None:
        return None
    if not all(isinstance(item, str) for item in train_items):
        raise TeacherEmbeddingsError("--teacher-embeddings works with text teachers only")
    return load_teacher_embeddings(
        args.teacher_embeddings, train_items, full_dimension(teacher), args.teacher_match, args.data,
        args.text_field,
    )  # fmt: skip


def _check_full_precision(teacher: nn.Module, name: str) -> None:
    if ternary_layers(teacher):
        raise TeacherIsTernaryError(
            f"teacher {name!r} already holds {len(ternary_layers(teacher))} ternary layers; "
            "distill from the full-precision original instead"
        )


def _split_held_out(items: Sequence[Any], eval_items: int, seed: int) -> tuple[list[Any], list[Any]]:
    """A seeded held-out slice of at most a tenth of the items, and the rest for training."""
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    count = min(eval_items, len(items) // 10)
    return [items[i] for i in sorted(order[count:])], [items[i] for i in sorted(order[:count])]


def _check_resumable(
    state: dict[str, Any], args: DistillArguments, config: TernaryConfig, fingerprint: str, world: int
) -> None:
    changes = args.training_changes(state["arguments"])
    problems = [f"{name}: checkpoint {old!r}, now {new!r}" for name, (old, new) in changes.items()]
    if state["ternary_config"] != config.to_dict():
        problems.append(f"ternary config: checkpoint {state['ternary_config']}, now {config.to_dict()}")
    if state["corpus_fingerprint"] != fingerprint:
        problems.append("the corpus texts differ from the checkpoint's")
    if state["world_size"] != world:
        problems.append(f"processes: checkpoint {state['world_size']}, now {world}")
    if problems:
        raise CheckpointError(
            "cannot resume, the run's settings changed: " + "; ".join(problems) + ". Use the same settings, "
            "or --overwrite to start over"
        )


def _save_student(
    student: nn.Module, folder: Path, config: TernaryConfig, run_config: dict[str, Any]
) -> None:
    """Freeze the student and save it in the packed ternembed format, with the run config beside it."""
    from ternembed.io import save
    from ternembed.io.model_card import write_model_card
    from ternembed.quantize import freeze

    student = freeze(copy.deepcopy(student).cpu(), config)
    quality = {f"held_out_{k}": v for k, v in run_config["final_eval"].items() if k != "step"}
    save(student, folder, config, base_model=run_config["arguments"]["teacher"], quality=quality or None)
    (folder / RUN_CONFIG_FILE).write_text(json.dumps(run_config, indent=2))
    write_model_card(
        folder, quality or None
    )  # again, now that the card can show the run's corpus and settings


def _has_new_checkpoint(folder: RunFolder) -> bool:
    """Whether ``OUT.partial`` holds a checkpoint of another run than the finished one in ``OUT``
    (a killed ``--overwrite`` run), rather than what the finished run left behind."""
    state = checkpoint_state(folder.partial)
    if state is None:
        return False
    finished = json.loads((folder.out / RUN_CONFIG_FILE).read_text())
    if "run_id" in state or "run_id" in finished:
        return state.get("run_id") != finished.get("run_id")
    return (state["step"], state["arguments"]) != (finished["step"], finished["arguments"])


def _already_finished(
    folder: RunFolder, args: DistillArguments, config: TernaryConfig, main: bool
) -> DistillResult:
    run_config = json.loads((folder.out / RUN_CONFIG_FILE).read_text())
    changes = args.training_changes(run_config["arguments"])
    problems = [f"{name}: finished run {old!r}, now {new!r}" for name, (old, new) in changes.items()]
    if run_config["ternary_config"] != config.to_dict():
        problems.append(
            f"ternary config: finished run {run_config['ternary_config']}, now {config.to_dict()}"
        )
    if problems:
        raise CheckpointError(
            f"{str(folder.out)!r} is a finished run with other settings (" + "; ".join(problems) + ") and "
            "there is no checkpoint to resume; use --overwrite to train with the new settings"
        )
    if main:
        folder.discard_partial()
        _log(main, f"{folder.out} is already a finished run; nothing to resume")
    return DistillResult(
        folder.out if main else None,
        run_config["step"],
        run_config["train_seconds"],
        run_config["items_per_second"],
        run_config["final_eval"],
    )


def _set_threads(device: torch.device, threads: int | None) -> int:
    """Use ``threads``, else the cores left idle by other work, split between the local processes.

    Oversubscribed cores are far worse than fewer threads: on a busy 2-core machine one thread ran a
    MiniLM step 10x faster than two. OMP_NUM_THREADS, when set, wins.
    """
    if device.type != "cpu":
        return torch.get_num_threads()
    if threads is None and "OMP_NUM_THREADS" in os.environ:
        return torch.get_num_threads()
    if threads is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        idle = cores - round(os.getloadavg()[0]) if hasattr(os, "getloadavg") else cores
        threads = max(1, min(cores, idle) // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    torch.set_num_threads(threads)
    return threads


def _progress_bar(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=initial, disable=not enabled, unit="step", dynamic_ncols=True, desc="distill"
    )


def _format_metrics(metrics: dict[str, float], loss_terms: dict[str, float]) -> str:
    parts = [f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()]
    parts += [f"loss.{k}={v:.4g}" for k, v in loss_terms.items()]
    return " ".join(parts)


def _log(main: bool, message: str) -> None:
    if main:
        print(message, file=sys.stderr, flush=True)


def _versions() -> dict[str, str]:
    import sentence_transformers
    import transformers

    from ternembed import __version__

    return {
        "ternembed": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
    }
